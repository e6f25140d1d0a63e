// Tracing for a program that uses voxq as a library (the SDK, the ServiceClient, an in-process
// worker or API). Unlike a voxq process (tracing.ts), it never installs voxq's synchronous
// context manager, which would break the caller's own spans across awaits:
// - the caller's process already runs an OpenTelemetry SDK (a tracer provider is registered):
//   voxq uses it as it is — its tracer, context manager and propagator — and starts nothing;
// - otherwise, when the OTEL_* variables give spans somewhere to go, voxq starts the Node SDK
//   with its default context manager (AsyncLocalStorage), so a span active in the caller's code
//   is still active after its awaits; a context manager or propagator already registered is
//   left as it is (the OpenTelemetry API refuses to replace one);
// - otherwise tracing is off.
// Either way the handle's `bullmq` telemetry carries the trace context active when the caller
// enqueues (a turn, a service call) into the jobs, so every stage on every worker joins the
// caller's trace: `connect({ tracing: startTracing() })`.
import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BullMQOtel } from 'bullmq-otel';
import { setTimeout as delay } from 'node:timers/promises';
import { VOXQ_VERSION } from '../version.js';
import { TRACER_NAME, type TracingHandle } from './tracing.js';
import { TurnTelemetry } from './turn-telemetry.js';

/** A dead collector must not hold the caller's exit for long. */
const SHUTDOWN_LIMIT_MS = 5000;

export interface StartTracingOptions {
  /** service.name when voxq starts the SDK itself (default OTEL_SERVICE_NAME, else `voxq-sdk`). */
  serviceName?: string;
}

export interface LibraryTracing extends TracingHandle {
  /** `caller`: the process's own OpenTelemetry SDK; `voxq`: one voxq started from OTEL_*; `off`: none. */
  readonly source: 'caller' | 'voxq' | 'off';
}

/** Turns voxq's tracing on in the caller's process: hand the result to connect({ tracing }) (and startWorkerProcess / startApiProcess). */
export function startTracing(options: StartTracingOptions = {}): LibraryTracing {
  const env = process.env; // what the Node SDK reads too
  const telemetry = () => new TurnTelemetry(new BullMQOtel({ tracerName: TRACER_NAME, version: VOXQ_VERSION }));
  if (hasRegisteredTracerProvider()) {
    // The caller's SDK is theirs to flush and stop.
    return { source: 'caller', bullmq: telemetry(), shutdown: () => Promise.resolve() };
  }
  const configured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER);
  if (env.OTEL_SDK_DISABLED === 'true' || !configured) return { source: 'off', bullmq: undefined, shutdown: () => Promise.resolve() };
  // No contextManager given: the SDK's default, which follows the caller's awaits.
  const sdk = new NodeSDK({ serviceName: options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'voxq-sdk', instrumentations: [] });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    source: 'voxq',
    bullmq: telemetry(),
    shutdown: () => (stopped ??= Promise.race([sdk.shutdown().catch(() => undefined), delay(SHUTDOWN_LIMIT_MS, undefined, { ref: false })])),
  };
}

/**
 * Whether an SDK registered a tracer provider in this process. The API's global provider is a
 * proxy that hands out tracers of the registered one, or none before registration.
 */
export function hasRegisteredTracerProvider(): boolean {
  const provider = trace.getTracerProvider() as TracerProvider & { getDelegateTracer?: (name: string) => Tracer | undefined };
  if (typeof provider.getDelegateTracer !== 'function') return true; // not the API's proxy: something registered it
  return provider.getDelegateTracer(TRACER_NAME) !== undefined;
}
