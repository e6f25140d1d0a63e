// Seed: IMetricsCollector (increment, gauge, timing, histogram, with tags).
import { conformsTo, type PortSpec } from './port-spec.js';

export type Tags = Readonly<Record<string, string | number | boolean>>;

export interface Metrics {
  increment(name: string, value?: number, tags?: Tags): void;
  gauge(name: string, value: number, tags?: Tags): void;
  /** A duration in milliseconds. */
  timing(name: string, durationMs: number, tags?: Tags): void;
  histogram(name: string, value: number, tags?: Tags): void;
}

export const METRICS_PORT: PortSpec = { name: 'Metrics', methods: ['increment', 'gauge', 'timing', 'histogram'] };

/** The seed's isinstance check: every method of Metrics is there. */
export function isMetrics(value: unknown): value is Metrics {
  return conformsTo(value, METRICS_PORT);
}
