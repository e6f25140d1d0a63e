// voxq on a Redis Cluster whose nodes require a password, given as VOXQ_REDIS_CLUSTER_NODES
// redis://:password@host:port entries: turns of sessions on every one of three shards run end to
// end (the password reaches every node, including those found through the slot map); a wrong
// password is refused at connect() with redis_auth_failed, naming no password; a node list none
// of which answers fails connect() with redis_unavailable instead of holding it forever, and so
// does an SDK call once every node is gone.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { closeRedis, createRedis, redisTargetOf, type RedisClient } from '../../src/shared/redis.js';
import { resolveQueueShards, type QueueShards } from '../../src/shared/shards/queue-shards.js';
import { createMemoryStores } from '../../src/shared/store/mongo-stores.js';
import type { StoreSet } from '../../src/shared/store/store-set.js';
import { openWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { keysPerMaster, startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
let cluster: LocalRedisCluster;
let config: Config;
let stores: StoreSet;
let admin: RedisClient;
let shards: QueueShards;
let client: VoxqClient;
let worker: WorkerProcess;

const env = (nodes: string, prefix: string) => ({
  VOXQ_REDIS_CLUSTER_NODES: nodes,
  VOXQ_QUEUE_SHARDS: '3',
  VOXQ_PREFIX: prefix,
  VOXQ_STT: 'fake',
  VOXQ_LLM: 'fake',
  VOXQ_TTS: 'fake',
  VOXQ_LOG_LEVEL: process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent',
});

beforeAll(async () => {
  cluster = await startRedisCluster({ password: PASSWORD });
  const prefix = `vp${randomBytes(4).toString('hex')}`;
  config = configSchema.parse(env(cluster.nodesEnv, prefix));
  stores = createMemoryStores();
  admin = createRedis(redisTargetOf(config), 'producer', 'voxq-test-admin');
  shards = await resolveQueueShards(admin, { prefix, shards: 3 });
  client = await connect({ config, stores, resultTimeoutMs: 20_000 });
  worker = await openWorkerProcess({
    config,
    stages: ['stt', 'llm', 'tts'],
    concurrency: 3,
    stores: { ...stores, close: () => Promise.resolve() },
    providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider({ replies: () => 'Sim. Com senha também.' }), tts: new FakeTtsProvider() },
    log: createLogger('voxq-password-cluster-test', process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent'),
  });
}, 90_000);

afterAll(async () => {
  await worker?.close();
  await client?.close();
  if (admin) await closeRedis(admin);
  await cluster?.stop();
});

describe('voxq on a Redis Cluster that requires a password', () => {
  it('runs turns of sessions on all three shards end to end, each shard on its own master', async () => {
    const byShard: string[] = [];
    for (let i = 0; i < 200 && byShard.filter(Boolean).length < 3; i += 1) {
      const { sessionId } = await client.createSession(`user-${i}`);
      byShard[shards.shardOf(sessionId)] ??= sessionId;
    }
    expect(byShard.filter(Boolean)).toHaveLength(3);
    const handles = await Promise.all(byShard.map((sessionId, i) => client.enqueueTurn({ sessionId, text: `Pergunta ${i}?` })));
    const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 30_000 })));
    expect(results.map((r) => r.replyText)).toEqual(['Sim. Com senha também.', 'Sim. Com senha também.', 'Sim. Com senha também.']);
    const jobKeys = await keysPerMaster(cluster, `${config.VOXQ_PREFIX}:{*}:*.*:*`);
    expect([...jobKeys.values()].filter((count) => count > 0)).toHaveLength(3);
  });

  it('a wrong password is refused at connect() with redis_auth_failed, and the message names no password', async () => {
    const wrong = cluster.nodesEnv.replaceAll(encodeURIComponent(PASSWORD), 'not-the-password');
    const bad = configSchema.parse(env(wrong, `vw${randomBytes(4).toString('hex')}`));
    const error = await connect({ config: bad, stores: createMemoryStores() }).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe('redis_auth_failed');
    expect(error?.message).not.toContain('not-the-password');
    expect(error?.message).not.toContain(PASSWORD);
  });

  it('every node gone after connect(): SDK calls fail with redis_unavailable at once instead of waiting for a node', async () => {
    const own = await startRedisCluster();
    try {
      const ownConfig = configSchema.parse(env(own.nodesEnv, `vo${randomBytes(4).toString('hex')}`));
      const sdk = await connect({ config: ownConfig, stores: createMemoryStores() });
      try {
        const { sessionId } = await sdk.createSession('user-outage');
        await own.stop();
        const error = await sdk.enqueueTurn({ sessionId, text: 'Alguém aí?' }).then(
          () => undefined,
          (e: unknown) => e as Error & { code?: string },
        );
        expect(error?.code).toBe('redis_unavailable');
      } finally {
        await sdk.close();
      }
    } finally {
      await own.stop();
    }
  });

  it('no node answering: connect() fails with redis_unavailable (a Cluster would hold its commands until one does)', async () => {
    const port = await freePort();
    const dead = configSchema.parse(env(`127.0.0.1:${port}`, `vd${randomBytes(4).toString('hex')}`));
    const error = await connect({ config: dead, stores: createMemoryStores() }).then(
      async (c) => {
        await c.close();
        return undefined;
      },
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe('redis_unavailable');
    expect(error?.message).toContain('VOXQ_REDIS_CLUSTER_NODES');
  });
});
