// The Metrics port on the OpenTelemetry metrics API. Instruments are made once per name and
// cached; names follow OpenTelemetry's style (dots, units as the `unit` option). Timings carry
// their buckets as advice, so every exporter (OTLP from workers, Prometheus in the API) uses them.
import { metrics as otelMetrics, type Meter, type Counter, type Histogram, type Gauge } from '@opentelemetry/api';
import type { Metrics, Tags } from '../ports/metrics.js';
import { VOXQ_VERSION } from '../version.js';

/** Millisecond buckets from a fast fake stage to a slow real one (the stage timeout is 60 s). */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000];

/** The Metrics port on the OpenTelemetry metrics API (a given Meter, else the global one: exported by whatever SDK the process runs). */
export class OtelMetrics implements Metrics {
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly meter: Meter;

  constructor(meter: Meter = otelMetrics.getMeter('voxq', VOXQ_VERSION)) {
    this.meter = meter;
  }

  increment(name: string, value = 1, tags?: Tags): void {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = this.meter.createCounter(name);
      this.counters.set(name, counter);
    }
    counter.add(value, tags);
  }

  gauge(name: string, value: number, tags?: Tags): void {
    let gauge = this.gauges.get(name);
    if (!gauge) {
      gauge = this.meter.createGauge(name);
      this.gauges.set(name, gauge);
    }
    gauge.record(value, tags);
  }

  timing(name: string, durationMs: number, tags?: Tags): void {
    this.record(name, durationMs, 'ms', tags);
  }

  histogram(name: string, value: number, tags?: Tags): void {
    this.record(name, value, undefined, tags);
  }

  private record(name: string, value: number, unit: string | undefined, tags?: Tags): void {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = this.meter.createHistogram(name, unit === 'ms' ? { unit, advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS } } : unit ? { unit } : {});
      this.histograms.set(name, histogram);
    }
    histogram.record(value, tags);
  }
}
