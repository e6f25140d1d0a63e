// A server span per API request (`POST /v1/turns` …) on `request.span`; the turn routes hand it
// to the SDK, so the turn's first queue hop — and through it every stage on every worker — joins
// the request's trace. A request that carries a W3C `traceparent` (a caller's own trace) gets
// its span as the child of the caller's: the turn continues that trace. Only /v1 routes are
// traced (not health probes, scrapes or the board's assets).
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { TRACER_NAME } from '../../shared/telemetry/tracing.js';
import { API_PREFIX } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    span?: Span;
  }
}

export function registerRequestTracing(app: FastifyInstance): void {
  const tracer = trace.getTracer(TRACER_NAME);
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route?.startsWith(`${API_PREFIX}/`)) {
      // The process's propagator (W3C trace context by default) reads the caller's traceparent, if any.
      const caller = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0] ?? '', 'voxq.request.id': request.id },
        },
        caller,
      );
      request.span = span;
      // A hijacked reply (an event stream) whose client leaves gets no onResponse: end it on
      // close. Whichever comes first ends it, with the status the response had.
      reply.raw.once('close', () => endRequestSpan(span, reply.raw.statusCode));
    }
    done();
  });
  app.addHook('onError', (request, _reply, error, done) => {
    request.span?.recordException(error);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.span) endRequestSpan(request.span, reply.statusCode);
    done();
  });
}

function endRequestSpan(span: Span, statusCode: number): void {
  if (!span.isRecording()) return;
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
