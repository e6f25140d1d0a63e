// An in-process voxq for tests: real Redis (a unique prefix), real stores (the test database,
// or memory), workers running the real stage runner with fake providers, and an SDK client.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { configSchema, type Config } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import type { Metrics, Tags } from '../../src/shared/ports/metrics.js';
import type { Providers } from '../../src/shared/providers/create-providers.js';
import { FakeLlmProvider, type FakeLlmOptions } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider, type FakeSttOptions } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider, type FakeTtsOptions } from '../../src/shared/providers/fake-tts.js';
import { StageQueues } from '../../src/shared/queues.js';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { createMemoryStores, openMongoStores } from '../../src/shared/store/mongo-stores.js';
import type { StoreSet } from '../../src/shared/store/store-set.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { audioRoutingFrom } from '../../src/producers/sdk/turn-routing.js';
import { testMongoUrl, uniqueDbName } from './mongo.js';
import { inject } from 'vitest';

/** Records every metric call, so tests can assert what the stage runner reported. */
export class RecordingMetrics implements Metrics {
  readonly calls: { kind: string; name: string; value: number; tags: Tags | undefined }[] = [];
  increment(name: string, value = 1, tags?: Tags): void {
    this.calls.push({ kind: 'increment', name, value, tags });
  }
  gauge(name: string, value: number, tags?: Tags): void {
    this.calls.push({ kind: 'gauge', name, value, tags });
  }
  timing(name: string, value: number, tags?: Tags): void {
    this.calls.push({ kind: 'timing', name, value, tags });
  }
  histogram(name: string, value: number, tags?: Tags): void {
    this.calls.push({ kind: 'histogram', name, value, tags });
  }
}

export interface PipelineOptions {
  store?: 'mongo' | 'memory';
  stt?: FakeSttOptions;
  llm?: FakeLlmOptions;
  tts?: FakeTtsOptions;
  /** A real provider in place of a fake (e.g. Kokoro for the TTS stage). */
  providers?: Partial<Providers>;
  env?: Record<string, string>;
  concurrency?: number;
  /** Start without workers (call startWorkers later). */
  workers?: boolean;
}

export interface Pipeline {
  config: Config;
  prefix: string;
  stores: StoreSet;
  /** A second view of the same database, for the client (as another process would have). */
  clientStores: StoreSet;
  stt: FakeSttProvider;
  llm: FakeLlmProvider;
  tts: FakeTtsProvider;
  metrics: RecordingMetrics;
  client: VoxqClient;
  queues: StageQueues;
  redis: Redis;
  worker: WorkerProcess | undefined;
  startWorkers(): WorkerProcess;
  /** Redis keys under this pipeline's prefix. */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export function testConfig(prefix: string, mongoUrl: string | undefined, env: Record<string, string> = {}): Config {
  return configSchema.parse({
    REDIS_URL: inject('redisUrl'),
    MONGO_URL: mongoUrl,
    VOXQ_PREFIX: prefix,
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent',
    VOXQ_LOCK_DURATION_MS: '5000',
    ...env,
  });
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const prefix = `vt${randomBytes(5).toString('hex')}`;
  const useMongo = (options.store ?? 'mongo') === 'mongo';
  const dbName = uniqueDbName('pipe');
  const mongoUrl = useMongo ? testMongoUrl() : undefined;
  const config = testConfig(prefix, mongoUrl, { VOXQ_MONGO_DB: dbName, ...options.env });
  const stores: StoreSet = useMongo ? await openMongoStores(testMongoUrl(), dbName) : createMemoryStores();
  const clientStores: StoreSet = useMongo ? await openMongoStores(testMongoUrl(), dbName) : stores;
  const stt = new FakeSttProvider(options.stt);
  const llm = new FakeLlmProvider(options.llm);
  const tts = new FakeTtsProvider(options.tts);
  const metrics = new RecordingMetrics();
  const redis = createRedis(config.REDIS_URL, 'producer', 'voxq-test');
  const queues = new StageQueues({ connection: redis, prefix, attempts: config.VOXQ_STAGE_ATTEMPTS });
  const subscriber = createRedis(config.REDIS_URL, 'subscriber', 'voxq-test-events');
  const client = new VoxqClient({
    stores: clientStores,
    queues: new StageQueues({ connection: redis, prefix, attempts: config.VOXQ_STAGE_ATTEMPTS }),
    subscriber,
    prefix,
    defaults: { voice: config.VOXQ_VOICE, language: config.VOXQ_LANGUAGE, speed: 1, resultTimeoutMs: 30_000 },
    // As connect() does: env VOXQ_LLM=speech-native routes audio turns audio → llm → tts.
    routing: audioRoutingFrom(config),
  });

  const pipeline: Pipeline = {
    config,
    prefix,
    stores,
    clientStores,
    stt,
    llm,
    tts,
    metrics,
    client,
    queues,
    redis,
    worker: undefined,
    startWorkers() {
      pipeline.worker = startWorkerProcess({
        config,
        stages: ['stt', 'llm', 'tts'],
        concurrency: options.concurrency ?? 2,
        // The worker closes its stores; keep ours open until the pipeline closes.
        stores: { ...stores, close: () => Promise.resolve() },
        providers: { stt, llm, tts, ...options.providers },
        metrics,
        log: createLogger('voxq-test', (process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent')),
      });
      return pipeline.worker;
    },
    async keys() {
      return redis.keys(`${prefix}:*`);
    },
    async close() {
      await pipeline.worker?.close();
      // Besides the stage queues, only sessions' and turns' live state (src/shared/live) and turn-id claims, each key with a TTL.
      const others = (await redis.keys(`${prefix}:*`)).filter((k) => !/^[^:]+:(stt|llm|tts):/.test(k));
      const ttls = await Promise.all(others.map((k) => redis.pttl(k)));
      const stray = others.filter((k, i) => !/^[^:]+:(\{sess_[0-9a-f-]{36}\}:|turn-ids:|turn-session:|unfinished-turns$)/.test(k) || (ttls[i] ?? -1) <= 0);
      if (stray.length > 0) throw new Error(`keys outside the stage queues, or without a TTL, were left in Redis: ${stray.join(', ')}`);
      if (others.length > 0) await redis.del(...others);
      await client.close();
      for (const queue of queues.all()) await queue.obliterate({ force: true });
      await queues.close();
      // Obliterating the queues must leave nothing: voxq keeps no other keys in Redis.
      const left = await redis.keys(`${prefix}:*`);
      await closeRedis(redis);
      if (useMongo) {
        const db = (stores as { db?: { dropDatabase(): Promise<unknown> } }).db;
        await db?.dropDatabase();
        await clientStores.close();
      }
      await stores.close();
      if (left.length > 0) throw new Error(`keys left in Redis after obliterating the queues: ${left.join(', ')}`);
    },
  };
  if (options.workers ?? true) pipeline.startWorkers();
  return pipeline;
}

export const quietLogger = () => createLogger('voxq-test', 'silent');
