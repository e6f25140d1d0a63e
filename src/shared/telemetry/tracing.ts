// OpenTelemetry for one process: the Node SDK configured by the standard OTEL_* variables
// (exporter endpoint, protocol, sampler; OTEL_SDK_DISABLED=true turns it off), and the
// bullmq-otel bridge that carries a turn's trace context from queue to queue.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BullMQOtel } from 'bullmq-otel';
import type { Telemetry } from 'bullmq';
import { VOXQ_VERSION } from '../version.js';

export const TRACER_NAME = 'voxq';

export interface TracingHandle {
  /** Hand this to every Queue and Worker; undefined when tracing is off. */
  bullmq: Telemetry | undefined;
  /** Flushes pending spans and stops the SDK; idempotent. */
  shutdown(): Promise<void>;
}

/** Starts tracing for a process role (`voxq-worker`, `voxq-sdk`, `voxq-api` …). */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  if (env.OTEL_SDK_DISABLED === 'true') {
    return { bullmq: undefined, shutdown: () => Promise.resolve() };
  }
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? serviceName, instrumentations: [] });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    bullmq: new BullMQOtel({ tracerName: TRACER_NAME, version: VOXQ_VERSION }),
    shutdown: () => (stopped ??= sdk.shutdown().catch(() => undefined)),
  };
}
