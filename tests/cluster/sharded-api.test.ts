// VOXQ_QUEUE_SHARDS=3 on one Redis (no cluster needed): the API and a worker process agree on the
// shards, turns run end to end through the HTTP API, /readyz sees every stage's workers, Bull
// Board lists each stage's three queues grouped under the stage, and /metrics reports queue depth
// by stage and shard.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startApiProcess, type ApiProcess } from '../../src/producers/http/api-process.js';
import { configSchema, type Config } from '../../src/shared/config.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import { PrometheusMetrics } from '../../src/shared/telemetry/prometheus-metrics.js';
import { openWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { resolveQueueShards } from '../../src/shared/shards/queue-shards.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { quietLogger } from '../support/pipeline.js';

let config: Config;
let api: ApiProcess;
let prom: PrometheusMetrics;
let worker: WorkerProcess;
let stores: MongoStores;

beforeAll(async () => {
  config = configSchema.parse({
    REDIS_URL: inject('redisUrl'),
    MONGO_URL: testMongoUrl(),
    VOXQ_MONGO_DB: uniqueDbName('shards'),
    VOXQ_PREFIX: `vs${randomBytes(4).toString('hex')}`,
    VOXQ_QUEUE_SHARDS: '3',
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: 'silent',
  });
  prom = new PrometheusMetrics('voxq-sharded-api-test');
  api = await startApiProcess({ config, port: 0, host: '127.0.0.1', metrics: prom, log: quietLogger() });
  stores = await openMongoStores(testMongoUrl(), config.VOXQ_MONGO_DB);
  worker = await openWorkerProcess({
    config,
    stages: ['stt', 'llm', 'tts'],
    concurrency: 2,
    stores: { ...stores, close: () => Promise.resolve() },
    providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider(), tts: new FakeTtsProvider() },
    log: quietLogger(),
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await prom?.shutdown();
  await stores?.db.dropDatabase();
  await stores?.close();
  const redis = createRedis(config.REDIS_URL, 'producer', 'voxq-test-cleanup');
  const keys = await redis.keys(`${config.VOXQ_PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await closeRedis(redis);
});

describe('VOXQ_QUEUE_SHARDS=3 through the API', () => {
  it('runs turns on every shard, is ready, groups the board by stage and reports depth by shard', async () => {
    const key = (await api.keys.create({ scopes: ['turns:read', 'turns:write', 'metrics:read', 'board:read'], name: 'test' })).key;
    const call = async <T>(path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${api.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${path}: ${response.status}`).toBeLessThan(300);
      const text = await response.text();
      return (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
    };
    // Sessions until each shard has two (a session's shard: the slot of its id, mod 3), a turn each.
    const redis = createRedis(config.REDIS_URL, 'producer', 'voxq-test-shards');
    const shards = await resolveQueueShards(redis, { prefix: config.VOXQ_PREFIX, shards: 3 });
    await closeRedis(redis);
    const perShard = [0, 0, 0];
    const turnIds: string[] = [];
    for (let i = 0; i < 100 && perShard.some((n) => n < 2); i += 1) {
      const { sessionId } = await call<{ sessionId: string }>('/v1/sessions', { userId: `user-${i}` });
      perShard[shards.shardOf(sessionId)] = (perShard[shards.shardOf(sessionId)] ?? 0) + 1;
      turnIds.push((await call<{ turnId: string }>('/v1/turns', { sessionId, text: `Pergunta ${i}?` })).turnId);
    }
    expect(Math.min(...perShard)).toBeGreaterThanOrEqual(2);
    for (const turnId of turnIds) expect((await call<{ status: string }>(`/v1/turns/${turnId}/wait?timeoutMs=20000`)).status).toBe('completed');

    const ready = await call<{ ready: boolean; stages?: Record<string, { workers: number }> }>('/readyz');
    expect(ready.ready).toBe(true);

    const board = await call<{ queues: { name: string; delimiter: string; counts: Record<string, number> }[] }>('/admin/queues-read-only/api/queues');
    const names = board.queues.map((q) => q.name).sort();
    expect(names).toEqual(['llm.0', 'llm.1', 'llm.2', 'stt.0', 'stt.1', 'stt.2', 'tts.0', 'tts.1', 'tts.2']);
    expect(new Set(board.queues.map((q) => q.delimiter))).toEqual(new Set(['.']));

    const metrics = await call<string>('/metrics');
    const completed = metrics
      .split('\n')
      .filter((line) => line.startsWith('voxq_queue_depth{') && line.includes('state="completed"') && line.includes('queue="llm"'));
    // One series per shard, the stage as `queue`: every shard completed llm jobs, one a turn in all.
    const byShard = new Map(completed.map((line) => [/shard="(\d+)"/.exec(line)?.[1], Number(line.split(' ').at(-1))]));
    expect([...byShard.keys()].sort()).toEqual(['0', '1', '2']);
    expect([...byShard.values()].reduce((a, b) => a + b, 0)).toBe(turnIds.length);
    expect(Math.min(...byShard.values())).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
