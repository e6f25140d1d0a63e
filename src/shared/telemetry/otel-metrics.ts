// The Metrics port on the OpenTelemetry metrics API. Instruments are made once per name and
// cached; names follow OpenTelemetry's style (dots, units as the `unit` option).
import { metrics as otelMetrics, type Meter, type Counter, type Histogram, type Gauge } from '@opentelemetry/api';
import type { Metrics, Tags } from '../ports/metrics.js';
import { VOXQ_VERSION } from '../version.js';

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
      histogram = this.meter.createHistogram(name, unit ? { unit } : {});
      this.histograms.set(name, histogram);
    }
    histogram.record(value, tags);
  }
}
