// bullmq-otel, trimmed to the spans a turn's trace needs. BullMQ opens a span for every queue
// operation (an `add` per hop, a `complete` per job, lock extensions …); a turn needs its root
// (the first `add`, made by whoever enqueued the turn) and one `process <stage>` span per stage.
// Every other operation gets a non-recording span that carries its parent's context, so the
// trace context still flows from queue to queue and each stage's span is the child of the one
// before. Half the spans, the same tree.
import { context, trace, INVALID_SPAN_CONTEXT, type Context } from '@opentelemetry/api';
import type { ContextManager, Span, Telemetry, Tracer } from 'bullmq';
import { BullMQOTelSpan, type BullMQOtel } from 'bullmq-otel';

type StartSpanOptions = Parameters<Tracer<Context>['startSpan']>[1];

function isKept(name: string, parent: Context): boolean {
  if (name.startsWith('process ')) return true;
  // An `add` with no live span around it starts a turn's trace (the SDK, the API, a CLI).
  if (name.startsWith('add ')) return !trace.getSpan(parent)?.isRecording();
  return false;
}

export class TurnTelemetry implements Telemetry<Context> {
  readonly tracer: Tracer<Context>;
  readonly contextManager: ContextManager<Context>;

  constructor(inner: BullMQOtel) {
    this.contextManager = inner.contextManager;
    this.tracer = {
      startSpan: (name: string, options?: StartSpanOptions, ctx?: Context): Span<Context> => {
        const parent = ctx ?? context.active();
        if (isKept(name, parent)) return inner.tracer.startSpan(name, options, ctx);
        return new BullMQOTelSpan(trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT));
      },
    };
  }
}
