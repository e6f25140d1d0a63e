// OpenTelemetry for one process: the Node SDK configured by the standard OTEL_* variables
// (exporter endpoint, protocol, sampler), and the bullmq-otel bridge that carries a turn's
// trace context from queue to queue. Tracing is on when somewhere to send spans is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER);
// OTEL_SDK_DISABLED=true turns it off. Without a destination, a CLI run would otherwise spend
// its exit retrying an exporter that nobody listens to. The active context lives only for
// the synchronous part of a `context.with()` (sync-context-manager.ts): voxq passes a turn's
// trace context by hand, which saves Node 20's AsyncLocalStorage promise hook.
import { setTimeout as delay } from 'node:timers/promises';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BullMQOtel } from 'bullmq-otel';
import type { Telemetry } from 'bullmq';
import { VOXQ_VERSION } from '../version.js';
import { SyncContextManager } from './sync-context-manager.js';
import { TurnTelemetry } from './turn-telemetry.js';

export const TRACER_NAME = 'voxq';
/** A dead collector must not hold a process's exit for long. */
const SHUTDOWN_LIMIT_MS = 5000;

export interface TracingHandle {
  /** Hand this to every Queue and Worker; undefined when tracing is off. */
  bullmq: Telemetry | undefined;
  /** Flushes pending spans and stops the SDK; idempotent. */
  shutdown(): Promise<void>;
}

/** Starts tracing for a process role (`voxq-worker`, `voxq-sdk`, `voxq-api` …). */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  const configured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER);
  if (env.OTEL_SDK_DISABLED === 'true' || !configured) {
    return { bullmq: undefined, shutdown: () => Promise.resolve() };
  }
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? serviceName, instrumentations: [], contextManager: new SyncContextManager() });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    bullmq: new TurnTelemetry(new BullMQOtel({ tracerName: TRACER_NAME, version: VOXQ_VERSION })),
    shutdown: () => (stopped ??= Promise.race([sdk.shutdown().catch(() => undefined), delay(SHUTDOWN_LIMIT_MS, undefined, { ref: false })])),
  };
}
