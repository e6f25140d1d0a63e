// Child spans for provider calls and events for store writes, under the span of the work they
// belong to (a stage's `process <stage>` span, an API request's span). The parent is passed in:
// voxq hands trace context on by hand (sync-context-manager.ts), never through async context.
import { context, trace, INVALID_SPAN_CONTEXT, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { TRACER_NAME } from './tracing.js';

const tracer = () => trace.getTracer(TRACER_NAME);

/** The context a turn's work runs under right now: call it before the first await. */
export function currentTraceContext(): Context {
  return context.active();
}

/** Runs `fn` inside a child span of `parent`'s span; records failures on it. */
export async function withSpan<T>(parent: Context, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!trace.getSpan(parent)?.isRecording()) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const span = tracer().startSpan(name, { attributes }, parent);
  try {
    // Active for fn's synchronous start, for code that reads the active context (BullMQ's add).
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** Adds an event to `parent`'s span (cheaper than a span: used for store writes). */
export function spanEvent(parent: Context, name: string, attributes?: Attributes): void {
  const span = trace.getSpan(parent);
  if (span?.isRecording()) span.addEvent(name, attributes);
}
