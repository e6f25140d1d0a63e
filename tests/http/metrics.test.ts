// /metrics scraped with a metrics:read key after a few turns: stage latency and queue-wait
// histograms, time to first audio, turns by outcome, queue depth, provider errors by kind and
// gauges recorded through the Metrics port (as the GPU manager's), under Prometheus names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_FREE_GAUGE, GPU_RESERVED_GAUGE } from '../../src/shared/gpu/redis-gpu-manager.js';
import { dashboardHistogramNames, dashboardMetricNames } from '../support/grafana-dashboard.js';
import { makeWav } from '../support/wav.js';
import { expectError, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let writer: string;

beforeAll(async () => {
  h = await startApiHarness();
  h.startWorkers();
  writer = await h.key('turns:read', 'turns:write');
});
afterAll(() => h.close());

/** Samples of one metric family: `name{labels} value` lines parsed. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

const sum = (xs: { value: number }[]) => xs.reduce((a, b) => a + b.value, 0);

async function turn(body: { text: string } | { audio: Uint8Array }, sessionId: string): Promise<string> {
  const res =
    'text' in body
      ? await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: body.text } })
      : await h.fetch('/v1/turns', {
          method: 'POST',
          key: writer,
          body: (() => {
            const form = new FormData();
            form.append('sessionId', sessionId);
            form.append('audio', new Blob([body.audio], { type: 'audio/wav' }), 'a.wav');
            return form;
          })(),
        });
  expect(res.status).toBe(202);
  const { turnId } = (await res.json()) as { turnId: string };
  const done = (await (await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=30000`, { key: writer })).json()) as { status: string };
  return done.status;
}

describe('/metrics', () => {
  it('refuses a scrape without a key (401) or without metrics:read (403)', async () => {
    await expectError(await h.fetch('/metrics'), 401, 'unauthorized');
    await expectError(await h.fetch('/metrics', { key: writer }), 403, 'missing_scope');
  });

  it('after a few turns shows the histograms, counters and gauges with values, in Prometheus names', async () => {
    const { sessionId } = (await (await h.fetch('/v1/sessions', { key: writer, json: { userId: 'metrics' } })).json()) as { sessionId: string };
    h.pipeline.llm.script.failNext({ kind: 'rate_limited', retryAfterMs: 10 }, { kind: 'server' });
    expect(await turn({ text: 'um' }, sessionId)).toBe('completed');
    expect(await turn({ audio: makeWav({ durationMs: 500 }) }, sessionId)).toBe('completed');
    h.pipeline.tts.script.failNext({ kind: 'bad_request' });
    expect(await turn({ text: 'três' }, sessionId)).toBe('failed');
    // The turn's end is written before its job is moved to BullMQ's failed set: the scrape below counts that job.
    await expect.poll(() => h.pipeline.queues.get('tts').getFailedCount(), { timeout: 10_000 }).toBe(1);
    // What the GPU manager records through the port.
    h.prom.metrics.gauge(GPU_RESERVED_GAUGE, 2048, { host: 'h1', gpu_uuid: 'GPU-1', gpu_index: 0 });
    h.prom.metrics.gauge(GPU_FREE_GAUGE, 20_986, { host: 'h1', gpu_uuid: 'GPU-1', gpu_index: 0 });

    const res = await h.fetch('/metrics', { key: await h.key('metrics:read') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    // Histograms: stage work and queue wait per stage, turn duration, time to first audio.
    expect(text).toContain('# TYPE voxq_stage_duration_milliseconds histogram');
    expect(text).toContain('# UNIT voxq_stage_duration_milliseconds ms');
    for (const stage of ['stt', 'llm', 'tts']) {
      const count = samples(text, 'voxq_stage_duration_milliseconds_count').find((s) => s.labels.stage === stage);
      expect(count?.value, stage).toBeGreaterThanOrEqual(1);
      expect(samples(text, 'voxq_stage_queue_wait_milliseconds_count').find((s) => s.labels.stage === stage)?.value).toBeGreaterThanOrEqual(1);
    }
    expect(samples(text, 'voxq_stage_duration_milliseconds_bucket').some((s) => s.labels.le === '+Inf' && s.value >= 1)).toBe(true);
    expect(sum(samples(text, 'voxq_turn_time_to_first_audio_milliseconds_count'))).toBe(2);
    expect(sum(samples(text, 'voxq_turn_time_to_first_audio_milliseconds_sum'))).toBeGreaterThan(0);
    expect(sum(samples(text, 'voxq_turn_duration_milliseconds_count'))).toBe(2);

    // Counters: turns by outcome, provider errors by kind.
    expect(text).toContain('# TYPE voxq_turns_total counter');
    expect(samples(text, 'voxq_turns_total')).toEqual(
      expect.arrayContaining([
        { labels: { outcome: 'completed' }, value: 2 },
        { labels: { outcome: 'failed', stage: 'tts' }, value: 1 },
      ]),
    );
    const errors = samples(text, 'voxq_stage_errors_total');
    expect(errors).toEqual(
      expect.arrayContaining([
        { labels: { stage: 'llm', kind: 'rate_limited' }, value: 1 },
        { labels: { stage: 'llm', kind: 'server' }, value: 1 },
        { labels: { stage: 'tts', kind: 'bad_request' }, value: 1 },
      ]),
    );

    // Queue depth per queue and state, read from Redis at scrape time.
    const depth = samples(text, 'voxq_queue_depth');
    expect(text).toContain('# TYPE voxq_queue_depth gauge');
    for (const queue of ['stt', 'llm', 'tts']) expect(depth.find((s) => s.labels.queue === queue && s.labels.state === 'waiting')?.value).toBe(0);
    expect(depth.find((s) => s.labels.queue === 'llm' && s.labels.state === 'completed')?.value).toBeGreaterThanOrEqual(2);
    expect(depth.find((s) => s.labels.queue === 'tts' && s.labels.state === 'failed')?.value).toBe(1);

    // Gauges through the port, the unit spelled out.
    expect(samples(text, 'voxq_gpu_reserved_megabytes')).toEqual([{ labels: { host: 'h1', gpu_uuid: 'GPU-1', gpu_index: '0' }, value: 2048 }]);
    expect(samples(text, 'voxq_gpu_free_megabytes')[0]?.value).toBe(20_986);
    // Every metric name follows Prometheus's charset.
    for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE '))) expect(line).toMatch(/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)$/);
    // Every metric the Grafana dashboard (deploy/grafana/dashboards/voxq.json) queries is one exposed here, histograms as histograms.
    for (const name of dashboardMetricNames()) expect(text, `dashboard metric ${name}`).toContain(`# TYPE ${name} `);
    for (const name of dashboardHistogramNames()) expect(text, `dashboard histogram ${name}`).toContain(`# TYPE ${name} histogram`);
  });
});
