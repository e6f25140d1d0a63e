// The cluster part: voxq on one Redis against voxq on a local Redis Cluster (three masters, one
// replica each, started here), in the same run and the same process shape — the SDK and a worker
// process with zero-latency fakes and in-memory stores, so that what is measured is voxq and Redis.
// Then, on the cluster with three queue shards: how evenly the stage jobs spread over the masters,
// and a master SIGKILLed while turns run (its replica promoted): turns lost, and how long until
// the dead master's shard completes turns again.
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connect } from '../src/producers/sdk/connect.js';
import type { VoxqClient } from '../src/producers/sdk/voxq-client.js';
import { configSchema, type Config } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';
import { FakeLlmProvider } from '../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../src/shared/providers/fake-tts.js';
import { STAGES } from '../src/shared/contracts/turn.js';
import { closeRedis, createRedis, redisTargetOf, type RedisClient } from '../src/shared/redis.js';
import { keySlot } from '../src/shared/shards/key-slot.js';
import { resolveQueueShards, type QueueShards } from '../src/shared/shards/queue-shards.js';
import { createMemoryStores } from '../src/shared/store/mongo-stores.js';
import type { StoreSet } from '../src/shared/store/store-set.js';
import { openWorkerProcess, type WorkerProcess } from '../src/workers/worker-process.js';
import { startRedisCluster, type LocalRedisCluster } from '../tests/support/redis-cluster.js';
import { benchLogger } from './support/log.js';
import { deleteKeys } from './support/redis-space.js';
import { fig } from './support/stats.js';

export const CLUSTER_HELP = `cluster: one Redis against a local 3-master Redis Cluster (3 queue shards), zero-latency fakes

  npm run bench -- cluster [options]

  --turns N        turns timed on each (default 1000), N at a time in flight (--in-flight, default 24)
  --failover-s S   seconds of steady load around the master kill (default 10)

Redis: REDIS_URL (default redis://127.0.0.1:6379) for the single node; the cluster is started on free
loopback ports (redis-server and redis-cli on PATH). The SDK and one worker process (concurrency 8
per stage) run in this process on in-memory stores.
  single_turns_per_s, cluster_turns_per_s, cluster_throughput_ratio   cluster ÷ single, same run
  shard_balance          smallest ÷ largest stage jobs per master, 3 shards (target ≥ 0.8)
  failover_lost          turns accepted before, during or after the kill that did not complete exactly once (target 0)
  failover_recovery_ms   kill → the first turn of the dead master's shard, enqueued after the kill, completed
  failover_promotion_ms  kill → the replica serving the slots (cluster_state ok everywhere)`;

// One sentence: one llm and one tts job a turn, so a shard's completed jobs stay under BullMQ's kept 1000 per queue.
const REPLY = 'Claro, aqui está a resposta.';

interface Rig {
  config: Config;
  stores: StoreSet;
  client: VoxqClient;
  worker: WorkerProcess;
  admin: RedisClient;
  shards: QueueShards;
  close(): Promise<void>;
}

async function startRig(env: Record<string, string>): Promise<Rig> {
  const config = configSchema.parse({
    VOXQ_PREFIX: `vb${randomBytes(4).toString('hex')}`,
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: 'silent',
    VOXQ_RECONCILE_INTERVAL_MS: '1000',
    VOXQ_RECONCILE_GRACE_MS: '3000',
    ...env,
  });
  const stores = createMemoryStores();
  const admin = createRedis(redisTargetOf(config), 'producer', 'voxq-bench-cluster-admin');
  const shards = await resolveQueueShards(admin, { prefix: config.VOXQ_PREFIX, shards: config.VOXQ_QUEUE_SHARDS });
  const client = await connect({ config, stores, resultTimeoutMs: 60_000 });
  const worker = await openWorkerProcess({
    config,
    stages: ['stt', 'llm', 'tts'],
    concurrency: 8,
    stores: { ...stores, close: () => Promise.resolve() },
    providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider({ replies: () => REPLY }), tts: new FakeTtsProvider() },
    log: createLogger('voxq-bench-cluster', 'silent'),
  });
  return {
    config,
    stores,
    client,
    worker,
    admin,
    shards,
    async close() {
      await worker.close();
      await client.close();
      await closeRedis(admin);
    },
  };
}

/** Turns/s of a closed loop: `turns` text turns, `inFlight` at a time, each in a session of its own. */
async function throughput(rig: Rig, turns: number, inFlight: number): Promise<number> {
  const sessions = await Promise.all(Array.from({ length: turns }, (_, i) => rig.client.createSession(`bench-${i}`)));
  let next = 0;
  const run = async () => {
    for (let i = next++; i < turns; i = next++) {
      const handle = await rig.client.enqueueTurn({ sessionId: sessions[i]?.sessionId ?? '', text: `Pergunta ${i}?` });
      await handle.result({ timeoutMs: 60_000 });
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: inFlight }, run));
  return (turns * 1000) / (performance.now() - startedAt);
}

/** The port of the master serving a shard's slot now. */
async function masterOf(rig: Rig, shard: number): Promise<number> {
  const slot = keySlot(rig.shards.shardHead(shard));
  const ranges = (await rig.admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  const port = ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1];
  if (port === undefined) throw new Error(`no master serves shard ${shard}`);
  return port;
}

/** Smallest ÷ largest stage jobs (completed, every stage) per master. */
async function shardBalance(rig: Rig, log: ReturnType<typeof benchLogger>): Promise<number> {
  const perMaster = new Map<number, number>();
  for (const shard of rig.shards.indexes()) {
    const counts = await Promise.all(STAGES.map((stage) => rig.worker.deps.queues.shard(stage, shard).getCompletedCount()));
    const port = await masterOf(rig, shard);
    perMaster.set(port, (perMaster.get(port) ?? 0) + counts.reduce((a, b) => a + b, 0));
  }
  log.info({ jobsPerMaster: Object.fromEntries(perMaster) }, 'stage jobs per master');
  const values = [...perMaster.values()];
  return values.length < 3 ? 0 : Math.min(...values) / Math.max(...values);
}

interface FailoverFigures {
  failover_turns: number;
  failover_lost: number;
  failover_recovery_ms: number | null;
  failover_promotion_ms: number;
}

async function failover(rig: Rig, cluster: LocalRedisCluster, seconds: number, log: ReturnType<typeof benchLogger>): Promise<FailoverFigures> {
  const sessions = await Promise.all(Array.from({ length: 60 }, (_, i) => rig.client.createSession(`failover-${i}`)));
  const victim = await masterOf(rig, 1);
  const turns: { turnId: string; shard: number; sentAt: number; result: Promise<{ ok: boolean; at: number }> }[] = [];
  let killedAt = Number.POSITIVE_INFINITY;
  let promotion: Promise<{ failoverMs: number }> | undefined;
  const endAt = performance.now() + seconds * 1000;
  const killAt = performance.now() + Math.min(2000, (seconds * 1000) / 4);
  for (let i = 0; performance.now() < endAt; i += 1) {
    if (promotion === undefined && performance.now() >= killAt) {
      killedAt = performance.now();
      promotion = cluster.killMaster(victim);
      log.info({ port: victim }, 'master of shard 1 killed');
    }
    const sessionId = sessions[i % sessions.length]?.sessionId ?? '';
    const turnId = `turn_${randomUUID()}`;
    const sentAt = performance.now();
    // Refused during the failover (UnavailableError): retried with the same turnId, as a client would.
    const accepted = (async () => {
      for (let tries = 0; ; tries += 1) {
        try {
          return await rig.client.enqueueTurn({ sessionId, text: `Pergunta ${i}?`, turnId });
        } catch (error) {
          if ((error as Error).name !== 'UnavailableError' || tries > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
    const result = accepted
      .then((handle) => handle.result({ timeoutMs: 60_000 }))
      .then(
        () => ({ ok: true, at: performance.now() }),
        (error: unknown) => {
          log.warn({ turnId, err: error }, 'turn did not complete');
          return { ok: false, at: performance.now() };
        },
      );
    turns.push({ turnId, shard: rig.shards.shardOf(sessionId), sentAt, result });
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  const { failoverMs } = (await promotion) ?? { failoverMs: 0 };
  const outcomes = await Promise.all(turns.map((t) => t.result));
  // Exactly once: each turn completed in the store with one user and one assistant message.
  const messages = new Map<string, number>();
  for (const session of sessions) {
    for (const m of await rig.stores.conversations.history(session.sessionId, { limit: 10_000 })) {
      messages.set(`${m.turnId ?? '-'} ${m.role}`, (messages.get(`${m.turnId ?? '-'} ${m.role}`) ?? 0) + 1);
    }
  }
  let lost = 0;
  for (const [i, turn] of turns.entries()) {
    const stored = await rig.stores.turns.get(turn.turnId);
    const once = messages.get(`${turn.turnId} user`) === 1 && messages.get(`${turn.turnId} assistant`) === 1;
    if (!outcomes[i]?.ok || stored?.status !== 'completed' || !once) lost += 1;
  }
  const recovered = turns
    .map((t, i) => ({ ...t, outcome: outcomes[i] }))
    .filter((t) => t.shard === 1 && t.sentAt > killedAt && t.outcome?.ok)
    .map((t) => (t.outcome?.at ?? 0) - killedAt);
  return {
    failover_turns: turns.length,
    failover_lost: lost,
    failover_recovery_ms: recovered.length > 0 ? fig(Math.min(...recovered), 0) : null,
    failover_promotion_ms: failoverMs,
  };
}

export async function runCluster(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...argv],
    options: { turns: { type: 'string', default: '1000' }, 'in-flight': { type: 'string', default: '24' }, 'failover-s': { type: 'string', default: '10' } },
  });
  const turns = Number(values.turns);
  const inFlight = Number(values['in-flight']);
  const failoverSeconds = Number(values['failover-s']);
  const log = benchLogger('voxq-bench-cluster');

  log.info({ turns, inFlight }, 'single redis: timing turns');
  const single = await startRig({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  let singleRate: number;
  try {
    await throughput(single, 30, inFlight);
    singleRate = await throughput(single, turns, inFlight);
  } finally {
    await single.close();
    const redis = createRedis(single.config.REDIS_URL, 'producer', 'voxq-bench-cluster-cleanup');
    await deleteKeys(redis, `${single.config.VOXQ_PREFIX}:*`);
    await closeRedis(redis);
  }
  log.info({ turnsPerSecond: fig(singleRate) }, 'single redis done');

  const cluster = await startRedisCluster();
  try {
    const rig = await startRig({ VOXQ_REDIS_CLUSTER_NODES: cluster.nodesEnv, VOXQ_QUEUE_SHARDS: '3' });
    try {
      log.info({ turns, inFlight }, 'redis cluster (3 masters, 3 shards): timing turns');
      await throughput(rig, 30, inFlight);
      const clusterRate = await throughput(rig, turns, inFlight);
      log.info({ turnsPerSecond: fig(clusterRate) }, 'redis cluster done');
      const balance = await shardBalance(rig, log);
      log.info({ seconds: failoverSeconds }, 'failover: a master killed under steady load');
      const failed = await failover(rig, cluster, failoverSeconds, log);
      return {
        single_turns_per_s: fig(singleRate),
        cluster_turns_per_s: fig(clusterRate),
        cluster_throughput_ratio: fig(clusterRate / singleRate),
        shard_balance: fig(balance),
        ...failed,
        turns,
        in_flight: inFlight,
      };
    } finally {
      await rig.close();
    }
  } finally {
    await cluster.stop();
  }
}
