// `npm run faults [-- --ci]`: a turn accepted is a turn finished, under faults. Turns flow through
// paced fake providers across several worker processes, on a redis-server (AOF) and a FerretDB
// of the suite's own, while the suite kills workers, restarts and kills Redis, stops the
// database, makes providers fail and drops a waiter's connection at the moment its turn ends.
// Then it checks every accepted turn. Logs and one progress line per phase go to stderr; the last
// line on stdout, once every child process has exited, is one flat JSON object of figures.
// README "Durability" says what each figure means.
import { appendFile, mkdtemp, mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { QueueEvents } from 'bullmq';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { configSchema } from '../../src/shared/config.js';
import { newTurnId } from '../../src/shared/contracts/ids.js';
import { STAGES } from '../../src/shared/contracts/turn.js';
import { openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import { seededRandom } from '../../tests/support/seeded-random.js';
import { benchLogger } from '../support/log.js';
import { median, percentile } from '../support/stats.js';
import { gpuLeftovers, judgeTurns, redisLeftovers, refusedThatRan } from './final-checks.js';
import { ensureFerretDbBuilt, OwnFerretDb } from './own-ferretdb.js';
import { OwnRedis } from './own-redis.js';
import { TurnDriver, type DrivenTurn } from './turn-driver.js';
import { WaiterDropper, type DropMoment } from './waiter-drop.js';
import { WorkerPool } from './worker-pool.js';
import { freePort } from '../../tests/support/free-port.js';
import { startRedisCluster } from '../../tests/support/redis-cluster.js';
import { createRedis } from '../../src/shared/redis.js';
import { keySlot } from '../../src/shared/shards/key-slot.js';
import { resolveQueueShards } from '../../src/shared/shards/queue-shards.js';

export const FAULTS_HELP = `faults: a turn accepted is a turn finished, under faults

  npm run faults [-- options]

  --ci               CI size: about 70 turns, 2 worker kills, provider bursts, one clean Redis
                     restart, two waiter drops, the database stopped for 10 s (under 5 minutes)
  --turns N          accepted turns at least (default 500; --ci 60): the load goes on until then,
                     or until 19 minutes into the run (--ci 3.5)
  --rate N           turns started per second (default 0.7; --ci 1), at most 12 unfinished
  --workers N        worker processes (default 4), each running stt, llm and tts
  --concurrency N    jobs per stage in each worker (default 3)
  --dir PATH         where the run folder goes (default /dev/shm when it has 1 GB free, else the
                     temp folder: FerretDB's SQLite commits are not fsync-bound there)
  --seed N           the random choices (sessions, inputs, cancels, victims)
  --keep             keep the run folder (logs of every process, Redis and FerretDB data)
  --cluster          on a local Redis Cluster (3 masters, 1 replica each) with VOXQ_QUEUE_SHARDS=3:
                     the Redis faults become one master SIGKILLed (its replica promoted); no waiter drops

Faults (full run), in this order: the database stopped for 90 s (a worker killed meanwhile) and
for 10 s; Redis killed hard (SIGKILL, AOF fsync every second) and restarted, then stopped cleanly
and restarted; 8 SIGKILLs of random workers; bursts of 429 with retry-after, 5xx, 408 and provider
calls that hang until the stage timeout; the result() waiter's Redis connection killed when a
turn's end is claimed and when its end event is written (6 times). Exit status: 0 when every
check holds, 1 when a turn was lost, duplicated or stuck, 2 when another check failed.`;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PREFIX = 'vf';
const DB_NAME = 'voxq_faults';
const CARDS = 2;
const CARD_MB = 6144;
const LEASE_TTL_MS = 6000;
const STAGE_TIMEOUT_MS = 3000;
/** A turn not ended this long after the last fault is stuck. */
const STUCK_AFTER_MS = 60_000;
const TIMINGS = { sttMs: 20, firstTokenMs: 30, tokensPerS: 200, ttsMsPerSentence: 20 };

const log = benchLogger('voxq-faults');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type FaultType = 'master_kill' | 'worker_kill' | 'provider_429' | 'provider_5xx' | 'provider_timeout' | 'provider_hang' | 'redis_restart' | 'redis_kill' | 'waiter_drop' | 'db_stop_10s' | 'db_stop_90s';

interface Fault {
  type: FaultType;
  /** When it was injected, and when it was over (the store back; a kill or a burst: the injection). */
  injectedAt: number;
  liftedAt: number;
  /** Turns accepted and not ended when it was injected. */
  inFlight: string[];
  /** The waiter drop's turn: its recovery is that turn's result(). */
  turnId?: string;
}

interface Plan {
  minTurns: number;
  rate: number;
  maxInFlight: number;
  /** From the start: the load stops by then even short of minTurns (turns_short says so), to keep the run's length. */
  loadBudgetMs: number;
  sessions: number;
  warmupMs: number;
  kills: number;
  killGapMs: [number, number];
  bursts: { type: FaultType; provider: string; kind: string; count: number; retryAfterMs?: number }[];
  burstGapMs: number;
  redisRestart: boolean;
  redisKill: boolean;
  waiterDrops: number;
  /** On a Redis Cluster: SIGKILL the master of shard 1 (its replica takes over). */
  masterKill?: boolean;
  dbStopsS: number[];
  afterFaultMs: number;
}

const FULL: Plan = {
  minTurns: 500,
  rate: 0.7,
  maxInFlight: 12,
  loadBudgetMs: 19 * 60_000,
  sessions: 60,
  warmupMs: 15_000,
  kills: 8,
  killGapMs: [5000, 9000],
  bursts: [
    { type: 'provider_429', provider: 'stt', kind: 'rate_limited', count: 4, retryAfterMs: 1000 },
    { type: 'provider_429', provider: 'llm', kind: 'rate_limited', count: 4, retryAfterMs: 500 },
    { type: 'provider_5xx', provider: 'tts', kind: 'server', count: 6 },
    { type: 'provider_5xx', provider: 'all', kind: 'server', count: 3 },
    { type: 'provider_timeout', provider: 'llm', kind: 'timeout', count: 3 },
    { type: 'provider_hang', provider: 'tts', kind: 'hang', count: 3 },
    { type: 'provider_hang', provider: 'stt', kind: 'hang', count: 2 },
  ],
  burstGapMs: 7000,
  redisRestart: true,
  redisKill: true,
  waiterDrops: 6,
  dbStopsS: [10, 90],
  afterFaultMs: 20_000,
};

const CI: Plan = {
  minTurns: 60,
  rate: 1,
  maxInFlight: 12,
  loadBudgetMs: 3.5 * 60_000,
  sessions: 30,
  warmupMs: 8000,
  kills: 2,
  killGapMs: [4000, 6000],
  bursts: [
    { type: 'provider_429', provider: 'stt', kind: 'rate_limited', count: 3, retryAfterMs: 800 },
    { type: 'provider_5xx', provider: 'all', kind: 'server', count: 2 },
    { type: 'provider_hang', provider: 'tts', kind: 'hang', count: 2 },
  ],
  burstGapMs: 5000,
  redisRestart: true,
  redisKill: false,
  waiterDrops: 2,
  dbStopsS: [10],
  afterFaultMs: 12_000,
};


/** /dev/shm when it has room (a tmpfs: SQLite's fsyncs cost nothing), else the temp folder. */
async function runFolderBase(): Promise<string> {
  const shm = '/dev/shm';
  const stats = await statfs(shm).catch(() => undefined);
  return stats && stats.bavail * stats.bsize >= 1024 ** 3 ? shm : tmpdir();
}

function whole(value: string | undefined, fallback: number, name: string): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

/** A name fit for a flat JSON key: lower case, letters, digits and underscores. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60) || 'unknown';
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

export async function runFaults(argv: readonly string[]): Promise<{ figures: Record<string, unknown>; exitCode: number }> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ci: { type: 'boolean', default: false },
      turns: { type: 'string' },
      rate: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      dir: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${FAULTS_HELP}\n`);
    return { figures: {}, exitCode: 0 };
  }
  const base = values.ci ? CI : FULL;
  const sized: Plan = { ...base, minTurns: whole(values.turns, base.minTurns, 'turns'), rate: whole(values.rate, base.rate, 'rate') || base.rate };
  // On a cluster, Redis's faults are a master's death; the waiter drops kill one node's clients and are left out.
  const plan: Plan = values.cluster ? { ...sized, redisKill: false, redisRestart: false, waiterDrops: 0, masterKill: true } : sized;
  const workers = Math.max(1, Math.round(whole(values.workers, 4, 'workers')));
  const concurrency = Math.max(1, Math.round(whole(values.concurrency, 3, 'concurrency')));
  const seed = Math.round(whole(values.seed, Date.now() % 1_000_000, 'seed'));
  const random = seededRandom(seed);
  const startedAt = Date.now();

  const runDir = await mkdtemp(join(values.dir ?? (await runFolderBase()), 'voxq-faults-'));
  const redisDir = join(runDir, 'redis');
  const dbDir = join(runDir, 'ferretdb');
  await Promise.all([mkdir(redisDir), mkdir(dbDir)]);
  log.info({ mode: values.ci ? 'ci' : 'full', seed, runDir, workers, concurrency, rate: plan.rate, minTurns: plan.minTurns }, 'fault suite starting');

  const built = await ensureFerretDbBuilt(log);
  const redis = new OwnRedis(await freePort(), redisDir);
  const db = new OwnFerretDb(await freePort(), dbDir, runDir);
  const cluster = values.cluster ? await startRedisCluster() : undefined;
  await Promise.all([cluster ? Promise.resolve() : redis.start(), db.start()]);

  const env: Record<string, string> = {
    ...(cluster ? { VOXQ_REDIS_CLUSTER_NODES: cluster.nodesEnv, VOXQ_QUEUE_SHARDS: '3' } : { REDIS_URL: redis.url }),
    MONGO_URL: db.url,
    VOXQ_MONGO_DB: DB_NAME,
    VOXQ_PREFIX: PREFIX,
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_STAGE_TIMEOUT_MS: String(STAGE_TIMEOUT_MS),
    VOXQ_GPUS: Array.from({ length: CARDS }, (_, i) => `${i}:Sim:${CARD_MB}`).join(','),
    VOXQ_GPU_LEASE_TTL_MS: String(LEASE_TTL_MS),
    VOXQ_LOG_LEVEL: 'info',
    OTEL_SDK_DISABLED: 'true',
  };
  const pool = new WorkerPool({
    slots: workers,
    root: ROOT,
    logDir: runDir,
    env: {
      ...process.env,
      ...env,
      PACED_TIMINGS: JSON.stringify(TIMINGS),
      PACED_CONCURRENCY: String(concurrency),
      PACED_FAULTS_KEY: `${PREFIX}:paced-faults`,
    },
    slotEnv: (slot) => ({ PACED_GPU: String(slot % CARDS) }),
    startTimeoutMs: 90_000,
  });
  const target = cluster ? cluster.nodesEnv.split(',').map((node) => ({ host: node.split(':')[0] ?? '', port: Number(node.split(':')[1]) })) : undefined;
  const redisTarget = target ? { nodes: target, tls: false } : redis.url;
  const admin = createRedis(redisTarget, 'worker', 'voxq-faults-admin');
  const shards = await resolveQueueShards(admin, { prefix: PREFIX, shards: cluster ? 3 : 1 });
  let client: VoxqClient | undefined;
  let stores: MongoStores | undefined;
  let dropper: WaiterDropper | undefined;
  const faults: Fault[] = [];
  const kills: { at: number; slot: number }[] = [];
  const respawns: Promise<boolean>[] = [];
  let keepRunDir = true;
  // Jobs BullMQ found stalled (their worker died or lost its lock) and jobs failed for good, as they happen: events.log.
  const jobEvents = { stalled: 0, failed: 0 };
  const eventsLog = join(runDir, 'events.log');
  const queueEvents = STAGES.flatMap((stage) => shards.indexes().map((shard) => ({ stage, shard }))).map(({ stage, shard }) => {
    const connection = cluster ? createRedis(redisTarget, 'worker', 'voxq-faults-events') : { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const events = new QueueEvents(shards.queueName(stage, shard), { connection, prefix: shards.queuePrefix(shard) });
    events.on('error', () => undefined);
    events.on('stalled', ({ jobId }) => {
      jobEvents.stalled += 1;
      void appendFile(eventsLog, `${JSON.stringify({ at: Date.now(), event: 'stalled', jobId })}\n`);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      jobEvents.failed += 1;
      void appendFile(eventsLog, `${JSON.stringify({ at: Date.now(), event: 'failed', jobId, failedReason })}\n`);
    });
    return events;
  });

  try {
    await pool.start();
    log.info({ workers, ferretdbBuilt: built }, 'workers ready');
    const config = configSchema.parse(env);
    client = await connect({ config });
    stores = await openMongoStores(db.url, DB_NAME);
    if (!cluster) dropper = new WaiterDropper(redis.url, PREFIX);
    const sessions: string[] = [];
    for (let i = 0; i < plan.sessions; i += 1) sessions.push((await client.createSession(`faults-user-${i}`)).sessionId);
    const driver = new TurnDriver({ client, sessions, rate: plan.rate, cancelShare: 0.05, maxPendingEnqueues: 120, maxInFlight: plan.maxInFlight, random, resultTimeoutMs: 15_000 });

    const inFlight = () => driver.inFlight().map((t) => t.turnId);
    const instant = (type: FaultType, extra: Partial<Fault> = {}): Fault => {
      const now = Date.now();
      const fault: Fault = { type, injectedAt: now, liftedAt: now, inFlight: inFlight(), ...extra };
      faults.push(fault);
      return fault;
    };
    const phase = async (name: string, run: () => Promise<void>) => {
      const t0 = Date.now();
      log.info({ phase: name }, 'phase started');
      await run();
      const turns = driver.accepted();
      log.info(
        {
          phase: name,
          ms: Date.now() - t0,
          accepted: turns.length,
          inFlight: turns.filter((t) => t.outcome === undefined).length,
          completed: turns.filter((t) => t.outcome === 'completed').length,
          failed: turns.filter((t) => t.outcome === 'failed').length,
          interrupted: turns.filter((t) => t.outcome === 'interrupted').length,
          refused: driver.refused.length,
        },
        'phase done',
      );
    };
    const killWorker = async () => {
      // A worker that is up: not one still starting after an earlier kill.
      const ready = pool.readySlots();
      if (ready.length === 0) return;
      const slot = ready[Math.floor(random() * ready.length)] as number;
      instant('worker_kill');
      kills.push({ at: Date.now(), slot });
      const pid = await pool.kill(slot);
      log.info({ slot, pid }, 'worker killed');
      const back = (async () => {
        await sleep(1000 + random() * 2000);
        return pool.respawn(slot, Date.now() + 240_000, (error) => log.warn({ slot, err: error }, 'worker start failed; trying again'));
      })();
      respawns.push(back);
    };
    const outage = async (type: FaultType, stop: () => Promise<void>, downMs: number, start: () => Promise<void>, during?: () => Promise<void>) => {
      const fault: Fault = { type, injectedAt: Date.now(), liftedAt: 0, inFlight: inFlight() };
      faults.push(fault);
      await stop();
      const until = Date.now() + downMs;
      await during?.();
      await sleep(Math.max(0, until - Date.now()));
      await start();
      fault.liftedAt = Date.now();
    };

    const workerKills = () =>
      phase('worker_kill', async () => {
        for (let i = 0; i < plan.kills; i += 1) {
          await killWorker();
          await sleep(plan.killGapMs[0] + random() * (plan.killGapMs[1] - plan.killGapMs[0]));
        }
        await Promise.all(respawns);
      });
    const providerFaults = () =>
      phase('provider_faults', async () => {
        for (const burst of plan.bursts) {
          instant(burst.type);
          const fields = ['provider', burst.provider, 'kind', burst.kind, 'count', String(burst.count), ...(burst.retryAfterMs !== undefined ? ['retryAfterMs', String(burst.retryAfterMs)] : [])];
          await admin.xadd(`${PREFIX}:paced-faults`, '*', ...fields);
          await sleep(plan.burstGapMs);
        }
      });
    const redisFaults = async () => {
      if (plan.masterKill && cluster) {
        await phase('master_kill', async () => {
          // The master of shard 1 dies: over when its replica serves the slots (cluster_state ok everywhere).
          const slot = keySlot(shards.shardHead(1));
          const ranges = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
          const victim = ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1];
          if (victim === undefined) throw new Error('no master serves shard 1');
          await outage('master_kill', async () => log.info({ port: victim, failover: await cluster.killMaster(victim) }, 'master killed, replica promoted'), 0, () => Promise.resolve());
          await sleep(plan.afterFaultMs);
        });
      }
      if (plan.redisKill) {
        await phase('redis_kill', async () => {
          await outage('redis_kill', () => redis.stop('SIGKILL'), 2000, () => redis.start());
          await sleep(plan.afterFaultMs);
        });
      }
      if (plan.redisRestart) {
        await phase('redis_restart', async () => {
          await outage('redis_restart', () => redis.stop('SIGTERM'), 0, () => redis.start());
          await sleep(plan.afterFaultMs);
        });
      }
    };
    const waiterDrops = () =>
      phase('waiter_drop', async () => {
        for (let i = 0; i < plan.waiterDrops; i += 1) {
          const moment: DropMoment = i % 2 === 0 ? 'claim' : 'end';
          // A turn of the suite's own id, watched before it is enqueued: its end is certain to come after.
          const ref = { turnId: newTurnId(), sessionId: driver.pickSession() };
          const { done } = await (dropper as WaiterDropper).watch(ref, moment, 20_000);
          const turn = await driver.enqueueNow(ref);
          const drop = await done;
          if (turn && drop.killedAt !== undefined) {
            faults.push({ type: 'waiter_drop', injectedAt: drop.killedAt, liftedAt: drop.killedAt, inFlight: [ref.turnId], turnId: ref.turnId });
            log.info({ turnId: ref.turnId, moment, killed: drop.killed }, 'waiter connection dropped');
          } else {
            log.warn({ turnId: ref.turnId, moment, accepted: turn !== undefined }, 'waiter drop did not happen: the turn was refused or did not end in time');
          }
          await sleep(2000);
        }
      });
    const databaseStops = async () => {
      for (const seconds of [...plan.dbStopsS].sort((a, b) => b - a)) {
        const type: FaultType = seconds >= 60 ? 'db_stop_90s' : 'db_stop_10s';
        await phase(type, async () => {
          // During a long outage a worker dies too: its replacement cannot start until the database is back.
          const during = seconds >= 60 ? async () => { await sleep(20_000); await killWorker(); } : undefined;
          await outage(type, () => db.stop('SIGTERM'), seconds * 1000, () => db.start(), during);
          await sleep(plan.afterFaultMs);
          await Promise.all(respawns);
        });
      }
    };

    // The database outages come first, while its collections are small: FerretDB's updates slow
    // down as they grow, and the backlog of a long outage must not meet a database at its limit.
    driver.start();
    await phase('warmup', () => sleep(plan.warmupMs));
    await databaseStops();
    await redisFaults();
    await workerKills();
    await providerFaults();
    await waiterDrops();
    await phase('tail', async () => {
      const until = startedAt + plan.loadBudgetMs;
      while (driver.accepted().length < plan.minTurns && Date.now() < until) await sleep(500);
    });
    await driver.stopEnqueueing();
    await Promise.all(respawns);

    // Every accepted turn gets 60 s after the last fault was over, or after it was accepted when that was later.
    const lastFaultAt = Math.max(...faults.map((f) => f.liftedAt));
    const lastAcceptedAt = Math.max(0, ...driver.accepted().map((t) => t.acceptedAt));
    const deadline = Math.max(lastFaultAt, lastAcceptedAt) + STUCK_AFTER_MS;
    await phase('settle', async () => {
      while (Date.now() < deadline && driver.inFlight().length > 0) await sleep(500);
    });
    driver.stopWaitingAfter(Date.now());

    // Checks, with the workers still running (idle): then they stop, and what they held must be released.
    const turns = driver.accepted();
    const accepted = new Set(turns.map((t) => t.turnId));
    let checks: SummaryInput['checks'] | undefined;
    await phase('checks', async () => {
      // Jobs of refused turns may still be on their way out: a little time for the queues to empty.
      const queuesBy = Date.now() + 15_000;
      while (Date.now() < queuesBy && (await redisLeftovers(admin, shards)).liveJobs > 0) await sleep(500);
      const judged = await judgeTurns(stores as MongoStores, admin, shards, turns);
      checks = { verdicts: judged.verdicts, leftovers: await redisLeftovers(admin, shards), phantom: await refusedThatRan(stores as MongoStores, accepted, judged.messages) };
    });
    // A killed worker's leases expire on their own; after that, only the live workers' resident memory may be held.
    const lastKillAt = Math.max(0, ...kills.map((k) => k.at));
    await sleep(Math.max(0, lastKillAt + LEASE_TTL_MS + 1000 - Date.now()));
    const gpuIdle = await gpuLeftovers(admin, PREFIX, CARDS, pool.pids());
    const stopped = await pool.stop();
    const gpuAfter = await gpuLeftovers(admin, PREFIX, CARDS, []);
    await driver.settled();

    if (!checks) throw new Error('the checks did not run');
    const figures = summarize({ plan, turns, driver, checks, gpuIdle, gpuAfter, faults, pool, stopped, startedAt, mode: values.ci ? 'ci' : 'full', seed, jobEvents });
    await writeFile(join(runDir, 'turns.json'), JSON.stringify({ turns, refused: driver.refused, faults, verdicts: checks.verdicts, refusedThatRan: checks.phantom.phantomTurnIds }, null, 1));
    const exitCode = (figures.lost as number) + (figures.duplicated as number) + (figures.stuck as number) > 0 ? 1 : (figures.checks_failed as number) > 0 ? 2 : 0;
    keepRunDir = exitCode !== 0 || values.keep;
    return { figures, exitCode };
  } finally {
    dropper?.close();
    await Promise.all(queueEvents.map((events) => events.close().catch(() => undefined)));
    await client?.close().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    await pool.stop().catch(() => undefined);
    admin.disconnect();
    await Promise.all([cluster ? cluster.stop() : redis.close(), db.close()]);
    if (keepRunDir) log.warn({ runDir }, 'run folder kept: the log of every process is there');
    else await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

interface SummaryInput {
  plan: Plan;
  turns: DrivenTurn[];
  driver: TurnDriver;
  checks: { verdicts: Awaited<ReturnType<typeof judgeTurns>>['verdicts']; leftovers: Awaited<ReturnType<typeof redisLeftovers>>; phantom: Awaited<ReturnType<typeof refusedThatRan>> };
  gpuIdle: Awaited<ReturnType<typeof gpuLeftovers>>;
  gpuAfter: Awaited<ReturnType<typeof gpuLeftovers>>;
  faults: Fault[];
  pool: WorkerPool;
  stopped: { forced: number };
  startedAt: number;
  mode: string;
  seed: number;
  jobEvents: { stalled: number; failed: number };
}

function summarize(input: SummaryInput): Record<string, unknown> {
  const { turns, checks, faults, pool } = input;
  const byId = new Map(turns.map((t) => [t.turnId, t]));
  const verdicts = checks.verdicts;
  const lost = verdicts.filter((v) => v.lost).length;
  const duplicated = verdicts.filter((v) => v.userMessages > 1 || v.assistantMessages > 1).length;
  const stuck = verdicts.filter((v) => !v.lost && !v.ended).length;
  const status = countBy(verdicts.filter((v) => v.ended), (v) => v.status ?? 'none');
  const failedBy = countBy(verdicts.filter((v) => v.status === 'failed'), (v) => v.failedCode ?? 'unknown');
  // Completed: exactly one message of each role. Failed: the user's at most (none when it failed
  // before a transcript), no reply. Interrupted: the user's at most, and a reply (as far as it was
  // heard) only beside the user's.
  const badMessages = verdicts.filter((v) =>
    v.status === 'completed'
      ? v.userMessages !== 1 || v.assistantMessages !== 1
      : v.status === 'failed'
        ? v.userMessages > 1 || v.assistantMessages > 0
        : v.status === 'interrupted'
          ? v.userMessages > 1 || v.assistantMessages > v.userMessages
          : false,
  ).length;
  // What the caller saw must be what the record says.
  const unresolved = turns.filter((t) => t.outcome === undefined).length;
  const mismatched = verdicts.filter((v) => {
    const seen = byId.get(v.turnId)?.outcome;
    return seen !== undefined && v.ended && seen !== v.status;
  }).length;
  const resultErrors = turns.filter((t) => t.resultError !== undefined);
  // A completed turn has its reply: a length in result(), the audio in the store.
  const noAudio =
    turns.filter((t) => t.outcome === 'completed' && !(t.replyAudioMs !== undefined && t.replyAudioMs > 0)).length + verdicts.filter((v) => v.replyAudioStored === false).length;
  const cancels = turns.filter((t) => t.cancel !== undefined);

  const figures: Record<string, unknown> = {
    mode: input.mode,
    turns: turns.length,
    lost,
    duplicated,
    stuck,
    completed: status.completed ?? 0,
    failed: status.failed ?? 0,
    interrupted: status.interrupted ?? 0,
  };
  for (const [code, n] of Object.entries(failedBy)) figures[`failed_${slug(code)}`] = n;
  figures.refused = input.driver.refused.length;
  for (const [reason, n] of Object.entries(countBy(input.driver.refused, (r) => r.reason.split(':')[0] ?? r.reason))) figures[`refused_${slug(reason)}`] = n;
  figures.enqueue_ticks_skipped = input.driver.skippedTicks;
  figures.cancels = cancels.length;
  figures.cancels_cancelled = cancels.filter((t) => t.cancel?.cancelled === true).length;
  figures.cancels_errors = cancels.filter((t) => t.cancel?.cancelled === 'error').length;

  const checkFigures: Record<string, number> = {
    result_unresolved: unresolved,
    result_errors: resultErrors.length,
    result_mismatched: mismatched,
    result_no_audio: noAudio,
    messages_wrong: badMessages,
    refused_messages: checks.phantom.phantomMessages,
    refused_completed: checks.phantom.refusedCompleted,
    orphan_jobs: checks.leftovers.liveJobs,
    orphan_keys: checks.leftovers.keysWithoutTtl,
    unfinished_entries: checks.leftovers.unfinishedEntries,
    gpu_leases_leaked: input.gpuIdle.leaked,
    gpu_leases_held_after_stop: input.gpuAfter.held,
    gpu_waiting: input.gpuIdle.waiting + input.gpuAfter.waiting,
    worker_crashes: pool.unexpectedExits,
    workers_forced_to_stop: input.stopped.forced,
    turns_short: Math.max(0, input.plan.minTurns - turns.length),
  };
  Object.assign(figures, checkFigures);
  figures.checks_failed = Object.values(checkFigures).filter((n) => n > 0).length;
  for (const [reason, n] of Object.entries(countBy(resultErrors, (t) => (t.resultError ?? '').split(':')[0] ?? ''))) figures[`result_error_${slug(reason)}`] = n;
  figures.jobs_stalled = input.jobEvents.stalled;
  figures.jobs_failed = input.jobEvents.failed;
  figures.failed_jobs_kept = checks.leftovers.failedJobs;
  figures.refused_records_left = checks.phantom.refusedRecordsLeft;
  figures.worker_start_failures = pool.failedStarts;
  for (const [msg, n] of pool.errorLogs) figures[`worker_error_log_${slug(msg)}`] = n;

  // Recovery, per fault: from the moment it was over (a kill or a burst: its injection; an outage:
  // the store back) to the first turn completed after it, as its caller saw it. Drain: from the
  // injection until every turn in flight at that moment had ended. A waiter drop: the kill to its
  // turn's result().
  const completedAt = turns.flatMap((t) => (t.outcome === 'completed' && t.endedAt !== undefined ? [t.endedAt] : [])).sort((a, b) => a - b);
  const types = [...new Set(faults.map((f) => f.type))];
  for (const type of types) {
    const of = faults.filter((f) => f.type === type);
    const recovery = of.flatMap((f) => {
      if (f.turnId !== undefined) {
        // Its waiter may have had the end before the kill: nothing to recover then (0).
        const ended = byId.get(f.turnId)?.endedAt;
        return ended === undefined ? [] : [Math.max(0, ended - f.liftedAt)];
      }
      const first = completedAt.find((at) => at > f.liftedAt);
      return first === undefined ? [] : [first - f.liftedAt];
    });
    const drain = of.flatMap((f) => {
      const ends = f.inFlight.map((id) => byId.get(id)?.endedAt);
      if (ends.some((e) => e === undefined)) return [];
      return [Math.max(f.injectedAt, ...(ends as number[])) - f.injectedAt];
    });
    figures[`${type}_count`] = of.length;
    figures[`${type}_recovery_p50_ms`] = recovery.length ? Math.round(median(recovery)) : null;
    figures[`${type}_recovery_max_ms`] = recovery.length ? Math.round(percentile(recovery, 100)) : null;
    figures[`${type}_drain_p50_ms`] = drain.length ? Math.round(median(drain)) : null;
    figures[`${type}_drain_max_ms`] = drain.length ? Math.round(percentile(drain, 100)) : null;
  }
  const latencies = turns.flatMap((t) => (t.outcome === 'completed' && t.endedAt !== undefined ? [t.endedAt - t.enqueuedAt] : []));
  figures.turn_ms_p50 = latencies.length ? Math.round(median(latencies)) : null;
  figures.turn_ms_max = latencies.length ? Math.round(percentile(latencies, 100)) : null;
  figures.seed = input.seed;
  figures.duration_s = Math.round((Date.now() - input.startedAt) / 1000);
  return figures;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  runFaults(process.argv.slice(2)).then(
    ({ figures, exitCode }) => {
      if (Object.keys(figures).length > 0) process.stdout.write(`${JSON.stringify(figures)}\n`);
      process.exit(exitCode);
    },
    (error: unknown) => {
      log.error({ err: error }, 'fault suite failed');
      process.exit(3);
    },
  );
}
