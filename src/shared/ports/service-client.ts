// Seed: ICommunicationManager (call_service with a timeout, health_check). In voxq a service
// is a stage queue: calling it enqueues a job and awaits its result; health is its live workers.
import type { Context } from '@opentelemetry/api';
import type { StageName } from '../contracts/turn.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface ServiceHealth {
  service: StageName;
  healthy: boolean;
  workers: number;
  hosts: string[];
}

export interface ServiceCallOptions {
  timeoutMs: number;
  jobId?: string;
  /** The trace the call continues (default: the context active when call() is made). */
  trace?: Context;
}

export interface ServiceClient {
  call(service: StageName, data: unknown, options: ServiceCallOptions): Promise<unknown>;
  health(service: StageName): Promise<ServiceHealth>;
  close(): Promise<void>;
}

export const SERVICE_CLIENT_PORT: PortSpec = { name: 'ServiceClient', methods: ['call', 'health', 'close'] };

export function isServiceClient(value: unknown): value is ServiceClient {
  return conformsTo(value, SERVICE_CLIENT_PORT);
}
