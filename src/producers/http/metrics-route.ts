// /metrics: the process's metrics in Prometheus's text format, for a `metrics:read` key.
import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, type PrometheusMetrics } from '../../shared/telemetry/prometheus-metrics.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: PrometheusMetrics): void {
  app.get('/metrics', { config: { scope: 'metrics:read' } }, async (_request, reply) => {
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(await metrics.scrape());
  });
}
