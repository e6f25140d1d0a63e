// The Metrics port for Prometheus: a MeterProvider whose reader is the Prometheus exporter with
// its own server off, scraped through the API's `/metrics` route (one port for everything).
// Names follow Prometheus's conventions: dots become underscores, counters end in `_total`
// (the exporter's serializer), and the unit is spelled at the end (done here: the serializer
// only writes `# UNIT`), e.g. `voxq.stage.duration` in ms → `voxq_stage_duration_milliseconds`.
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, InstrumentType, MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Meter } from '@opentelemetry/api';
import type { Metrics, Tags } from '../ports/metrics.js';
import type { PortSpec } from '../ports/port-spec.js';
import { VOXQ_VERSION } from '../version.js';
import { LATENCY_BUCKETS_MS, OtelMetrics } from './otel-metrics.js';

/** OpenTelemetry unit → the plural word Prometheus puts at the end of a name. */
const UNIT_SUFFIX: Record<string, string> = { ms: 'milliseconds', s: 'seconds', By: 'bytes', MB: 'megabytes', MiBy: 'mebibytes' };
/** Name endings that already say the unit in short form, spelled out for Prometheus. */
const SHORT_UNIT_ENDINGS: [RegExp, string][] = [
  [/_mb$/, '_megabytes'],
  [/_ms$/, '_milliseconds'],
];

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the API process needs of its metrics: the Metrics port and a Prometheus scrape. */
export const PROMETHEUS_METRICS_PORT: PortSpec = { name: 'PrometheusMetrics', methods: ['increment', 'gauge', 'timing', 'histogram', 'scrape', 'shutdown'] };

/** The Metrics port kept in this process and rendered in Prometheus's text format by scrape() (the API's /metrics). */
export class PrometheusMetrics implements Metrics {
  readonly provider: MeterProvider;
  readonly meter: Meter;
  /** The Metrics port on this provider: hand it to whatever runs in this process. */
  readonly metrics: OtelMetrics;
  private readonly exporter: PrometheusExporter;
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  private closing: Promise<void> | undefined;

  constructor(serviceName = 'voxq') {
    this.exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': VOXQ_VERSION }),
      readers: [this.exporter],
      views: [
        {
          instrumentType: InstrumentType.HISTOGRAM,
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: LATENCY_BUCKETS_MS } },
        },
      ],
    });
    this.meter = this.provider.getMeter('voxq', VOXQ_VERSION);
    this.metrics = new OtelMetrics(this.meter);
  }

  increment(name: string, value?: number, tags?: Tags): void {
    this.metrics.increment(name, value, tags);
  }

  gauge(name: string, value: number, tags?: Tags): void {
    this.metrics.gauge(name, value, tags);
  }

  timing(name: string, durationMs: number, tags?: Tags): void {
    this.metrics.timing(name, durationMs, tags);
  }

  histogram(name: string, value: number, tags?: Tags): void {
    this.metrics.histogram(name, value, tags);
  }

  /** Collects every instrument (observable ones call back now) and renders Prometheus's text format. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(withUnitNames(resourceMetrics));
  }

  shutdown(): Promise<void> {
    return (this.closing ??= this.provider.shutdown().catch(() => undefined));
  }
}

/** The Prometheus name of an OpenTelemetry instrument (before the serializer's `_total`). */
export function prometheusBaseName(name: string, unit: string): string {
  let out = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  for (const [ending, spelled] of SHORT_UNIT_ENDINGS) out = out.replace(ending, spelled);
  const suffix = UNIT_SUFFIX[unit];
  if (suffix && !out.endsWith(`_${suffix}`)) out = `${out}_${suffix}`;
  return out;
}

function withUnitNames(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map(
        (metric): MetricData => ({ ...metric, descriptor: { ...metric.descriptor, name: prometheusBaseName(metric.descriptor.name, metric.descriptor.unit) } }),
      ),
    })),
  };
}
