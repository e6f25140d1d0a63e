// voxq on a Redis Cluster (three masters, one replica each, started here) with three queue
// shards: turns end to end through the SDK and the workers (text, audio, a barge-in, two turns of
// one session in order); the stage jobs land on all three masters; a master SIGKILLed while turns
// run, its replica promoted: every turn ends once, none lost or duplicated.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { closeRedis, createRedis, isCluster, redisTargetOf, type RedisClient } from '../../src/shared/redis.js';
import { keySlot } from '../../src/shared/shards/key-slot.js';
import { resolveQueueShards, type QueueShards } from '../../src/shared/shards/queue-shards.js';
import { createMemoryStores } from '../../src/shared/store/mongo-stores.js';
import type { StoreSet } from '../../src/shared/store/store-set.js';
import { openWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { keysPerMaster, startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';
import { makeWav } from '../support/wav.js';
import { RequestWindow } from '../../src/shared/rate-limit/request-window.js';
import { AudioBudget } from '../../src/shared/rate-limit/audio-budget.js';
import { ReservationLedger } from '../../src/shared/gpu/reservation-ledger.js';
import { KeyQuotas } from '../../src/producers/http/key-quotas.js';
import type { ApiKeyRecord } from '../../src/shared/ports/api-key-store.js';

let cluster: LocalRedisCluster;
let config: Config;
let stores: StoreSet;
let admin: RedisClient;
let shards: QueueShards;
let client: VoxqClient;
let worker: WorkerProcess;

/** Sessions until every shard has `each` of them. */
async function sessionsOnEveryShard(each: number): Promise<string[][]> {
  const byShard: string[][] = shards.indexes().map(() => []);
  for (let i = 0; i < 200 && byShard.some((s) => s.length < each); i += 1) {
    const { sessionId } = await client.createSession(`user-${i}`);
    const list = byShard[shards.shardOf(sessionId)];
    if (list && list.length < each) list.push(sessionId);
  }
  return byShard;
}

/** The port of the master that serves a shard's slot now. */
async function masterOf(shard: number): Promise<number | undefined> {
  const slot = keySlot(shards.shardHead(shard));
  const ranges = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  return ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1];
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  const prefix = `vc${randomBytes(4).toString('hex')}`;
  config = configSchema.parse({
    VOXQ_REDIS_CLUSTER_NODES: cluster.nodesEnv,
    VOXQ_QUEUE_SHARDS: '3',
    VOXQ_PREFIX: prefix,
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent',
    VOXQ_LOCK_DURATION_MS: '2000',
    VOXQ_RECONCILE_INTERVAL_MS: '1000',
    VOXQ_RECONCILE_GRACE_MS: '3000',
  });
  stores = createMemoryStores();
  admin = createRedis(redisTargetOf(config), 'producer', 'voxq-test-admin');
  shards = await resolveQueueShards(admin, { prefix, shards: 3 });
  client = await connect({ config, stores, resultTimeoutMs: 20_000 });
  worker = await openWorkerProcess({
    config,
    stages: ['stt', 'llm', 'tts'],
    concurrency: 3,
    stores: { ...stores, close: () => Promise.resolve() },
    providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider({ replies: () => 'Claro. Aqui está a resposta. Até logo!', latencyMs: 300 }), tts: new FakeTtsProvider({ latencyMs: 50 }) },
    log: createLogger('voxq-cluster-test', process.env.VOXQ_TEST_LOG_LEVEL ?? 'silent'),
  });
}, 90_000);

afterAll(async () => {
  await worker?.close();
  await client?.close();
  if (admin) await closeRedis(admin);
  await cluster?.stop();
});

describe('voxq on a Redis Cluster with VOXQ_QUEUE_SHARDS=3', () => {
  it('connects through a Cluster, and puts each shard on its own master by its tag', async () => {
    expect(isCluster(admin)).toBe(true);
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    // The tags were chosen from the slot map: three different masters own the three shards' slots.
    // voxq's CRC16 is the cluster's: the slots it predicts are the ones the cluster uses.
    for (const key of ['voxq:{s0}:stt.0:wait', 'plain-key', 'a{}{b}', `${config.VOXQ_PREFIX}:{sess_${randomUUID()}}:turns`, 'ação{ç}']) {
      expect(keySlot(key), key).toBe(Number(await admin.cluster('KEYSLOT', key)));
    }
    const owners = await Promise.all(shards.indexes().map((shard) => masterOf(shard)));
    expect(new Set(owners).size).toBe(3);
  });

  it('runs text and audio turns end to end, two of one session in order, and a barge-in; stage jobs on all three masters', async () => {
    const byShard = await sessionsOnEveryShard(2);
    const sessions = byShard.flat();
    const audio = makeWav({ durationMs: 800 });
    const handles = await Promise.all(
      sessions.map((sessionId, i) => client.enqueueTurn(i % 2 === 0 ? { sessionId, text: `Pergunta ${i}?` } : { sessionId, audio })),
    );
    const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 30_000 })));
    for (const result of results) expect(result.replyText).toBe('Claro. Aqui está a resposta. Até logo!');

    // Two turns of one session: the second's context holds the first's reply.
    const [first] = sessions;
    if (!first) throw new Error('no session');
    const a = await client.enqueueTurn({ sessionId: first, text: 'Primeira?' });
    const b = await client.enqueueTurn({ sessionId: first, text: 'Segunda?' });
    await a.result({ timeoutMs: 30_000 });
    await b.result({ timeoutMs: 30_000 });
    const history = await client.history(first, { limit: 20 });
    const texts = history.map((m) => m.content);
    expect(texts.indexOf('Primeira?')).toBeLessThan(texts.indexOf('Segunda?'));

    // A barge-in on a shard's turn: cancelled, its stream ends interrupted.
    const slow = await client.enqueueTurn({ sessionId: byShard[2]?.[0] ?? first, text: 'Cancele esta.' });
    const cancelled = await client.cancelSession(byShard[2]?.[0] ?? first);
    const ended = await slow.result({ timeoutMs: 30_000 }).then(
      () => 'completed',
      (error: Error) => error.name,
    );
    expect(cancelled ? 'TurnInterruptedError' : 'completed').toBe(ended);

    // Each master holds the completed jobs of its shard's three stage queues.
    const jobKeys = await keysPerMaster(cluster, `${config.VOXQ_PREFIX}:{*}:*.*:*`);
    expect([...jobKeys.values()].every((n) => n > 0)).toBe(true);
    for (const shard of shards.indexes()) {
      for (const stage of ['stt', 'llm', 'tts'] as const) {
        const completed = await worker.deps.queues.shard(stage, shard).getCompletedCount();
        expect(completed, `${stage} shard ${shard}`).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it('runs the STT request window, the GPU ledger and API-key quotas on the cluster (their multi-key scripts in one slot)', async () => {
    const prefix = config.VOXQ_PREFIX;
    // Five keys in one script: refused across slots (CROSSSLOT) without their shared tag.
    const window = new RequestWindow({ redis: admin, prefix, limit: 2, liveReserve: 1 });
    const slots = [await window.acquire('live', 'a'), await window.acquire('live', 'b'), await window.acquire('live', 'c')];
    expect(slots.map((slot) => slot.waitMs > 0)).toEqual([false, false, true]);
    await Promise.all(slots.map((slot) => slot.release()));
    const budget = new AudioBudget({ redis: admin, prefix, audioSecondsPerHour: 10, liveReserveShare: 0.2 });
    expect((await budget.reserve('call-1', 4000, 'live')).waitMs).toBe(0);
    // Six keys in each ledger script, under the card's tag.
    const ledger = new ReservationLedger(admin, prefix);
    const card = { host: 'box-1', uuid: 'GPU-cluster-0' };
    const lease = { card, requiredMb: 600, totalMb: 1000, ttlMs: 5000, meta: {}, pid: process.pid, usedMb: 0 };
    expect((await ledger.allocate({ ...lease, leaseId: 'one' })).ok).toBe(true);
    expect((await ledger.allocate({ ...lease, leaseId: 'two' })).ok).toBe(false);
    expect(new Set(ledger.keys(card).map(keySlot)).size).toBe(1);
    expect((await ledger.release(card, 'one')).removed).toBe(true);
    expect((await ledger.allocate({ ...lease, leaseId: 'two' })).ok).toBe(true);
    await ledger.release(card, 'two');
    const quotas = new KeyQuotas(admin, prefix);
    const record = { keyId: 'k1', scopes: ['turns:write'], quota: { requestsPerMinute: 1 } } as unknown as ApiKeyRecord;
    await quotas.admitRequest(record);
    await expect(quotas.admitRequest(record)).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('loses and duplicates no turn when a master is killed mid-run and its replica promoted', async () => {
    const byShard = await sessionsOnEveryShard(3);
    const sessions = byShard.flat();
    // The master of shard 1 dies while turns of every shard run (the LLM takes 300 ms): right after a turn of shard 1 is accepted.
    const victim = await masterOf(1);
    if (victim === undefined) throw new Error('no master to kill');
    const turns: { turnId: string; shard: number; acceptedAt: number; result: Promise<string> }[] = [];
    let failover: Promise<{ promotedPort: number; failoverMs: number }> | undefined;
    let killedAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 36; i += 1) {
      const sessionId = sessions[i % sessions.length] ?? '';
      // The same turnId again is the same turn: a retry never makes a second one.
      const turnId = `turn_${randomUUID()}`;
      let handle;
      for (let tries = 0; !handle; tries += 1) {
        // Enqueueing during the failover may be refused (UnavailableError): the caller retries, as a client would.
        handle = await client.enqueueTurn({ sessionId, text: `Pergunta ${i}?`, turnId }).catch((error: Error) => {
          if (error.name !== 'UnavailableError' || tries > 50) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200));
        });
      }
      const acceptedAt = Date.now();
      const result = handle.result({ timeoutMs: 60_000 }).then(
        () => 'completed',
        (error: Error) => error.name,
      );
      turns.push({ turnId: handle.turnId, shard: shards.shardOf(sessionId), acceptedAt, result });
      if (failover === undefined && i >= 8 && shards.shardOf(sessionId) === 1) {
        killedAt = Date.now();
        failover = cluster.killMaster(victim);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const failed = await failover;
    const outcomes = await Promise.all(turns.map((t) => t.result));
    expect(failed?.failoverMs).toBeLessThan(15_000);
    expect(outcomes.map((o, i) => `${turns[i]?.turnId ?? ''} ${o}`).filter((o) => !o.endsWith(' completed'))).toEqual([]);
    // The kill hit a turn of the dead master's shard in flight (accepted before it, completed after it).
    const endedAt = await Promise.all(turns.map(async (t) => (await stores.turns.get(t.turnId))?.completedAt?.getTime() ?? 0));
    const hit = turns.filter((t, i) => t.shard === 1 && t.acceptedAt < killedAt && (endedAt[i] ?? 0) > killedAt);
    expect(hit.length).toBeGreaterThan(0);
    // Exactly once: one user and one assistant message per turn, whatever ran twice.
    for (const { turnId } of turns) {
      const turn = await stores.turns.get(turnId);
      expect(turn?.status, turnId).toBe('completed');
    }
    const perTurn = new Map<string, number>();
    for (const sessionId of sessions) {
      for (const m of await stores.conversations.history(sessionId, { limit: 1000 })) perTurn.set(`${m.turnId ?? '-'} ${m.role}`, (perTurn.get(`${m.turnId ?? '-'} ${m.role}`) ?? 0) + 1);
    }
    const counts = turns.map(({ turnId }) => [perTurn.get(`${turnId} user`), perTurn.get(`${turnId} assistant`)]);
    expect(counts.filter(([user, assistant]) => user !== 1 || assistant !== 1)).toEqual([]);
    expect(perTurn.size).toBe(turns.length * 2);
  }, 180_000);
});
