// Seed: ICommunicationManager (call_service with a timeout, health_check). In voxq a service
// is a stage queue: calling it enqueues a job and awaits its result; health is its live workers.
import type { StageName } from '../contracts/turn.js';
import { hasMethods } from './has-methods.js';

export interface ServiceHealth {
  service: StageName;
  healthy: boolean;
  workers: number;
  hosts: string[];
}

export interface ServiceClient {
  call(service: StageName, data: unknown, options: { timeoutMs: number; jobId?: string }): Promise<unknown>;
  health(service: StageName): Promise<ServiceHealth>;
  close(): Promise<void>;
}

export function isServiceClient(value: unknown): value is ServiceClient {
  return hasMethods(value, ['call', 'health', 'close']);
}
