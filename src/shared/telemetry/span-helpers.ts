// Child spans for provider calls and events for store writes, around the stage span that
// bullmq-otel opened (the active span while a stage job runs).
import { context, trace, INVALID_SPAN_CONTEXT, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { TRACER_NAME } from './tracing.js';

const tracer = () => trace.getTracer(TRACER_NAME);

/** Runs `fn` inside a child span of the active span; records failures on it. */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = trace.getActiveSpan();
  if (!parent || !parent.isRecording()) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const span = tracer().startSpan(name, { attributes }, context.active());
  try {
    return await context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** Adds an event to the active span (cheaper than a span: used for store writes). */
export function spanEvent(name: string, attributes?: Attributes): void {
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.addEvent(name, attributes);
}
