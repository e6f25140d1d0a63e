// Seed: ICommunicationManager (call_service with a timeout, health_check). In voxq a service
// is a stage: calling it runs that stage's provider on a worker, outside any turn (its input
// and output schemas are in contracts/service-calls.ts); health is the stage queue's live workers.
import type { Context } from '@opentelemetry/api';
import type { ServiceCallInputs, ServiceCallOutputs } from '../contracts/service-calls.js';
import type { StageName } from '../contracts/turn.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface ServiceHealth {
  service: StageName;
  healthy: boolean;
  workers: number;
  hosts: string[];
}

export interface ServiceCallOptions {
  /** How long to wait for the answer (default 30 000 ms); then TimeoutError `service_timeout`. */
  timeoutMs?: number;
  /** The trace the call continues (default: the context active when call() is made). */
  trace?: Context;
}

export interface ServiceClient {
  /** Runs one stage's work on a worker and resolves with its output (stt → transcript, llm → reply, tts → audio). */
  call<S extends StageName>(service: S, input: ServiceCallInputs[S], options?: ServiceCallOptions): Promise<ServiceCallOutputs[S]>;
  health(service: StageName): Promise<ServiceHealth>;
  close(): Promise<void>;
}

export const SERVICE_CLIENT_PORT: PortSpec = { name: 'ServiceClient', methods: ['call', 'health', 'close'] };

/** The seed's isinstance check: every method of ServiceClient is there. */
export function isServiceClient(value: unknown): value is ServiceClient {
  return conformsTo(value, SERVICE_CLIENT_PORT);
}
