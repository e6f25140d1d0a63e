// The Metrics port on a real OpenTelemetry MeterProvider, read back through a manual reader.
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMetrics } from '../../src/shared/ports/metrics.js';
import { LATENCY_BUCKETS_MS, OtelMetrics } from '../../src/shared/telemetry/otel-metrics.js';

/** Collects on demand only (what a Prometheus scrape does). */
class ManualReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('OtelMetrics', () => {
  let reader: ManualReader;
  let provider: MeterProvider;
  let metrics: OtelMetrics;

  beforeEach(() => {
    reader = new ManualReader();
    provider = new MeterProvider({ readers: [reader] });
    metrics = new OtelMetrics(provider.getMeter('voxq-test'));
  });

  afterEach(async () => {
    await provider.shutdown();
  });

  async function collect(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  }

  function metric(collected: Map<string, MetricData>, name: string): MetricData {
    const found = collected.get(name);
    if (!found) throw new Error(`no metric ${name}; have ${[...collected.keys()].join(', ')}`);
    return found;
  }

  it('increment adds to a counter, one data point per tag set (default step 1)', async () => {
    metrics.increment('voxq.turns', 1, { outcome: 'completed' });
    metrics.increment('voxq.turns', 2, { outcome: 'completed' });
    metrics.increment('voxq.turns', undefined, { outcome: 'failed', stage: 'llm' });
    metrics.increment('voxq.untagged');

    const collected = await collect();
    const turns = metric(collected, 'voxq.turns');
    expect(turns.dataPointType).toBe(DataPointType.SUM);
    const points = turns.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }));
    expect(points).toEqual(
      expect.arrayContaining([
        { value: 3, attributes: { outcome: 'completed' } },
        { value: 1, attributes: { outcome: 'failed', stage: 'llm' } },
      ]),
    );
    expect(points).toHaveLength(2);
    expect(metric(collected, 'voxq.untagged').dataPoints.map((p) => [p.value, p.attributes])).toEqual([[1, {}]]);
  });

  it('gauge keeps the last value per tag set', async () => {
    metrics.gauge('voxq.gpu.free_mb', 20_000, { gpu: 0 });
    metrics.gauge('voxq.gpu.free_mb', 18_500, { gpu: 0 });
    metrics.gauge('voxq.gpu.free_mb', 7_000, { gpu: 1 });

    const free = metric(await collect(), 'voxq.gpu.free_mb');
    expect(free.dataPointType).toBe(DataPointType.GAUGE);
    const points = free.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes }));
    expect(points).toEqual(
      expect.arrayContaining([
        { value: 18_500, attributes: { gpu: 0 } },
        { value: 7_000, attributes: { gpu: 1 } },
      ]),
    );
    expect(points).toHaveLength(2);
  });

  it('timing records a histogram in milliseconds', async () => {
    metrics.timing('voxq.stage.duration', 120, { stage: 'stt' });
    metrics.timing('voxq.stage.duration', 80, { stage: 'stt' });
    metrics.timing('voxq.stage.duration', 900, { stage: 'llm' });

    const duration = metric(await collect(), 'voxq.stage.duration');
    expect(duration.descriptor.unit).toBe('ms');
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    const stt = duration.dataPoints.find((p) => p.attributes.stage === 'stt');
    expect(stt?.value).toMatchObject({ count: 2, sum: 200, min: 80, max: 120 });
    const llm = duration.dataPoints.find((p) => p.attributes.stage === 'llm');
    expect(llm?.value).toMatchObject({ count: 1, sum: 900, min: 900, max: 900 });
    expect(duration.dataPoints).toHaveLength(2);
    // Buckets up to two minutes whatever the exporter (the SDK's default stops at 10 s: a slow
    // real stage would land in +Inf and a p95 would read as 10 s).
    expect((stt?.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(LATENCY_BUCKETS_MS);
    expect(LATENCY_BUCKETS_MS.at(-1)).toBe(120_000);
  });

  it('histogram records values with tags and no unit', async () => {
    metrics.histogram('voxq.tts.sentence_chars', 42, { voice: 'pf_dora', streaming: true });
    metrics.histogram('voxq.tts.sentence_chars', 8, { voice: 'pf_dora', streaming: true });

    const chars = metric(await collect(), 'voxq.tts.sentence_chars');
    expect(chars.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(chars.descriptor.unit).toBe('');
    expect(chars.dataPoints).toHaveLength(1);
    expect(chars.dataPoints[0]?.attributes).toEqual({ voice: 'pf_dora', streaming: true });
    expect(chars.dataPoints[0]?.value).toMatchObject({ count: 2, sum: 50, min: 8, max: 42 });
  });

  it('reuses one instrument per name', async () => {
    for (let i = 0; i < 5; i++) metrics.timing('voxq.queue.wait', i, { stage: 'tts' });
    const collected = await collect();
    expect([...collected.keys()]).toEqual(['voxq.queue.wait']);
    expect(metric(collected, 'voxq.queue.wait').dataPoints[0]?.value).toMatchObject({ count: 5, sum: 10 });
  });
});

describe('isMetrics', () => {
  it('accepts OtelMetrics and a complete object', () => {
    expect(isMetrics(new OtelMetrics())).toBe(true);
    const noop = () => undefined;
    expect(isMetrics({ increment: noop, gauge: noop, timing: noop, histogram: noop })).toBe(true);
  });

  it('rejects incomplete mocks and non-objects', () => {
    const noop = () => undefined;
    expect(isMetrics({ increment: noop, gauge: noop, timing: noop })).toBe(false);
    expect(isMetrics({ increment: noop, gauge: noop, timing: noop, histogram: 'not a function' })).toBe(false);
    expect(isMetrics({})).toBe(false);
    expect(isMetrics(null)).toBe(false);
    expect(isMetrics(undefined)).toBe(false);
    expect(isMetrics('metrics')).toBe(false);
  });
});
