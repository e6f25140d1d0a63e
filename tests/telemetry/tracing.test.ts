// Tracing end to end, in a child process as a voxq process runs it: startTracing's NodeSDK
// exports over OTLP/HTTP to a local receiver, bullmq-otel carries the trace from one queue to
// the next, and the span helpers hang a child span and an event on the stage's process span.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTracing } from '../../src/shared/telemetry/tracing.js';
import { spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../support/traced-queues.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

describe('startTracing', () => {
  let receiver: OtlpReceiver;
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    redis = new Redis(inject('redisUrl'));
  });

  afterAll(async () => {
    // A failed child may leave its queues behind: remove them whatever happened.
    for (const prefix of prefixes) {
      const keys = await keysWithPrefix(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
    await receiver.close();
  });

  // http/protobuf is the SDK's default (OTEL_EXPORTER_OTLP_PROTOCOL unset); http/json selects JSON.
  describe.each([
    { protocol: undefined, encoding: 'protobuf' },
    { protocol: 'http/json', encoding: 'json' },
  ] as const)('exporting OTLP $encoding (OTEL_EXPORTER_OTLP_PROTOCOL=$protocol)', ({ protocol, encoding }) => {
    it('keeps one trace across two queues, with the child span and the event on the process span', async () => {
      const prefix = `voxq-test-tracing-${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      receiver.clear();
      const serviceName = `voxq-test`;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        VOXQ_TEST_PREFIX: prefix,
        SERVICE_NAME: serviceName,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_TRACES_SAMPLER: 'always_on',
      };
      delete env.OTEL_SDK_DISABLED;
      delete env.OTEL_SERVICE_NAME;
      delete env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      delete env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
      if (protocol) env.OTEL_EXPORTER_OTLP_PROTOCOL = protocol;
      else delete env.OTEL_EXPORTER_OTLP_PROTOCOL;

      const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env, timeout: 50_000 });
      const ids = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { first: string; second: string; followsAwait: boolean };
      expect(await keysWithPrefix(redis, prefix)).toEqual([]);
      // No AsyncLocalStorage (its promise hook costs every promise): the context is passed by hand.
      expect(ids.followsAwait).toBe(false);

      // The child flushed on shutdown before it exited: the spans are here.
      const isOurs = (s: ReceivedSpan) => s.attributes['bullmq.job.id'] === ids.first || s.attributes['bullmq.job.id'] === ids.second;
      const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'child.call') && all.some(isOurs));
      const childCall = spans.find((s) => s.name === 'child.call');
      expect(childCall).toBeDefined();
      const traceId = childCall?.traceId ?? '';
      const tree = spanTree(spans, traceId);
      const requests = receiver.requests.filter((r) => r.path === '/v1/traces' && r.spanCount > 0);
      expect(new Set(requests.map((r) => r.encoding))).toEqual(new Set([encoding]));

      const processFirst = tree.one('process first');
      const processSecond = tree.one('process second');
      const addFirst = tree.one('add first.start');
      const context = `\n${tree.render()}`;

      // One trace, rooted at the first add, across both queues; the trimmed telemetry keeps the
      // root add and the process spans: the second hop's add and BullMQ's internal spans carry
      // the context without a span of their own, so each process span is the child of the last.
      expect(tree.roots.map((n) => n.span.name), context).toEqual(['add first.start']);
      expect(tree.spans.map((s) => s.name).sort(), context).toEqual(['add first.start', 'child.call', 'process first', 'process second']);
      for (const span of [processFirst, processSecond, addFirst]) expect(span.traceId).toBe(traceId);
      expect(processFirst.kind).toBe('consumer');
      expect(addFirst.kind).toBe('producer');
      expect(tree.parent(processFirst)?.spanId, context).toBe(addFirst.spanId);
      expect(tree.parent(processSecond)?.spanId, context).toBe(processFirst.spanId);

      // The helpers: child.call's parent is the second queue's process span, which holds the event.
      expect(tree.parent(childCall as ReceivedSpan)?.spanId, context).toBe(processSecond.spanId);
      expect(childCall?.attributes['voxq.test']).toBe('yes');
      expect(processSecond.events.map((e) => e.name)).toContain('store.write');
      expect(processSecond.events.find((e) => e.name === 'store.write')?.attributes).toEqual({ 'voxq.collection': 'turns' });

      expect(new Set(tree.spans.map((s) => s.serviceName))).toEqual(new Set([serviceName]));
      expect(new Set(tree.spans.map((s) => s.scopeName))).toEqual(new Set(['voxq']));
      for (const span of tree.spans) expect(span.endTimeUnixNano >= span.startTimeUnixNano).toBe(true);
    });
  });

  it('is off with OTEL_SDK_DISABLED=true: no bullmq telemetry, shutdown resolves', async () => {
    const handle = startTracing('voxq-test', { OTEL_SDK_DISABLED: 'true' });
    expect(handle.bullmq).toBeUndefined();
    await expect(handle.shutdown()).resolves.toBeUndefined();
  });
});
