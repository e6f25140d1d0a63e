// One variant of the load part: its processes started (the driver, and the stage workers when
// they run on their own), the ceiling searched (rate-search.ts), then latency at fractions of it,
// each step measured from outside as well: every process's CPU (/proc), Redis's (INFO cpu), the
// workers' resident memory sampled during the step, and the Redis commands both sides sent.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../src/shared/logger.js';
import { ChildScript } from '../support/child-script.js';
import { cpuMs, rssBytes } from '../support/proc-stats.js';
import { redisCpuUs } from '../support/redis-cpu.js';
import { deleteKeys } from '../support/redis-space.js';
import { LineRpc } from './line-rpc.js';
import type { OpenLoopResult } from './open-loop.js';
import { searchCeiling, type SearchResult } from './rate-search.js';

export interface VariantSpec {
  /** raw, raw_one_process, memory, mongo. */
  name: string;
  target: 'raw' | 'voxq';
  store?: 'memory' | 'mongo';
  /** Stage workers in a process of their own (else in the driver's). */
  workersApart: boolean;
  /** Latency at fractions of the ceiling (the raw chain only needs its ceiling). */
  latencyPoints: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface LoadPlan {
  /** The search's first rate; undefined: half what the closed-loop pilot managed. */
  startRatePerS: number | undefined;
  pilot: { inFlight: number; warmupMs: number; minMs: number; minTurns: number; maxMs: number };
  minGrowth: number;
  maxSteps: number;
  warmupMs: number;
  windowMs: number;
  /** Search steps stretch their window to hold this many arrivals, up to maxWindowMs. */
  minStepTurns: number;
  /** Latency points stretch their window to hold this many arrivals, up to maxWindowMs. */
  latencyTurns: number;
  maxWindowMs: number;
  drainMs: number;
  maxInFlight: number;
  concurrency: number;
  sessions: number;
  fractions: readonly number[];
}

export interface VariantContext {
  root: string;
  redisUrl: string;
  admin: Redis;
  baseEnv: NodeJS.ProcessEnv;
  /** The database server's process (the bundled FerretDB), for its CPU. */
  databasePid?: number;
  log: Logger;
  /** Told how many keys a variant left under its prefix (removed here). */
  onLeftoverKeys(count: number): void;
}

/** A step's figures: the driver's (open-loop.ts) and what was read around it. */
export interface MeasuredStep extends OpenLoopResult {
  shared_session_turns: number;
  wall_ms: number;
  /** CPU ms used during the step (drain included), by process; undefined where unreadable. */
  cpu_ms: { driver?: number; worker?: number; redis?: number; database?: number };
  /** The most resident memory sampled during the step. */
  rss_max_bytes: { driver?: number; worker?: number };
  /** Redis commands sent during the step (drain included), by name, driver and workers together. */
  commands: Record<string, number>;
}

export interface VariantResult {
  spec: VariantSpec;
  /** The closed-loop pilot's turns a second (null when --start-rate was given). */
  pilotTurnsPerS: number | null;
  startRatePerS: number;
  /** Every turn that ended in the variant, the pilot's included (what its stores hold by the end). */
  turnsRun: number;
  search: SearchResult<MeasuredStep>;
  points: { fraction: number; step: MeasuredStep }[];
  /** Resident memory once started, before any turn. */
  idleRssBytes: { driver?: number; worker?: number };
  durationMs: number;
}

const DRIVER = 'bench/load/load-driver.ts';
const VOXQ_WORKER = 'bench/load/load-worker.ts';
const RAW_WORKER = 'bench/load/raw-worker.ts';
const START_TIMEOUT_MS = 120_000;
const RSS_SAMPLE_MS = 200;

async function cpuOf(pid: number | undefined): Promise<number | undefined> {
  return pid === undefined ? undefined : cpuMs(pid);
}

const delta = (after: number | undefined, before: number | undefined) => (after === undefined || before === undefined ? undefined : after - before);

/** Samples the processes' resident memory until stopped; answers the most seen of each. */
function sampleRss(pids: Record<'driver' | 'worker', number | undefined>): () => Promise<MeasuredStep['rss_max_bytes']> {
  const max: MeasuredStep['rss_max_bytes'] = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const key of ['driver', 'worker'] as const) {
        const pid = pids[key];
        const rss = pid === undefined ? undefined : await rssBytes(pid);
        if (rss !== undefined) max[key] = Math.max(max[key] ?? 0, rss);
      }
      await new Promise((resolve) => setTimeout(resolve, RSS_SAMPLE_MS));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return max;
  };
}

function sumCommands(before: Record<string, number>[], after: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  after.forEach((counts, i) => {
    for (const [name, n] of Object.entries(counts)) {
      const d = n - (before[i]?.[name] ?? 0);
      if (d > 0) out[name] = (out[name] ?? 0) + d;
    }
  });
  return out;
}

export async function runVariant(spec: VariantSpec, plan: LoadPlan, ctx: VariantContext): Promise<VariantResult> {
  const started = performance.now();
  const { log } = ctx;
  const prefix = `vload-${randomBytes(5).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...ctx.baseEnv,
    ...spec.env,
    REDIS_URL: ctx.redisUrl,
    VOXQ_PREFIX: prefix,
    VOXQ_LOG_LEVEL: 'warn',
    LOAD_TARGET: spec.target,
    LOAD_STORE: spec.store ?? 'memory',
    LOAD_WORKERS: spec.workersApart ? 'elsewhere' : 'here',
    LOAD_CONCURRENCY: String(plan.concurrency),
    LOAD_SESSIONS: String(plan.sessions),
  };
  let worker: LineRpc | undefined;
  let driver: LineRpc | undefined;
  try {
    if (spec.workersApart) {
      const script = spec.target === 'raw' ? RAW_WORKER : VOXQ_WORKER;
      worker = new LineRpc(new ChildScript(script, { name: `${spec.name}-worker`, env, cwd: ctx.root }), `${spec.name} worker`);
      await worker.ready(START_TIMEOUT_MS);
    }
    driver = new LineRpc(new ChildScript(DRIVER, { name: `${spec.name}-driver`, env, cwd: ctx.root }), `${spec.name} driver`);
    await driver.ready(START_TIMEOUT_MS);
    const pids = { driver: driver.pid, worker: worker?.pid ?? driver.pid };
    const idleRssBytes = { driver: driver.pid === undefined ? undefined : await rssBytes(driver.pid), worker: pids.worker === undefined ? undefined : await rssBytes(pids.worker) };
    const rpcs = [driver, ...(worker ? [worker] : [])];
    const commandsNow = async () => Promise.all(rpcs.map(async (rpc) => (await rpc.request('commands', {}, 30_000)).commands as Record<string, number>));

    const step = async (ratePerS: number, windowMs: number): Promise<MeasuredStep> => {
      const commandsBefore = await commandsNow();
      const cpuBefore = { driver: await cpuOf(pids.driver), worker: spec.workersApart ? await cpuOf(pids.worker) : undefined, database: await cpuOf(ctx.databasePid) };
      const redisBefore = await redisCpuUs(ctx.admin);
      const stopSampling = sampleRss(pids);
      const t0 = performance.now();
      const reply = (await (driver as LineRpc).request(
        'step',
        { ratePerS, warmupMs: plan.warmupMs, windowMs, drainMs: plan.drainMs, maxInFlight: plan.maxInFlight },
        plan.warmupMs + windowMs + plan.drainMs + 60_000,
      )) as unknown as Omit<MeasuredStep, 'wall_ms' | 'cpu_ms' | 'rss_max_bytes'>;
      const wallMs = performance.now() - t0;
      const rss = await stopSampling();
      const cpu: MeasuredStep['cpu_ms'] = {
        driver: delta(await cpuOf(pids.driver), cpuBefore.driver),
        worker: spec.workersApart ? delta(await cpuOf(pids.worker), cpuBefore.worker) : undefined,
        redis: ((await redisCpuUs(ctx.admin)) - redisBefore) / 1000,
        database: delta(await cpuOf(ctx.databasePid), cpuBefore.database),
      };
      const commands = sumCommands(commandsBefore, await commandsNow());
      const measured: MeasuredStep = { ...reply, wall_ms: wallMs, cpu_ms: cpu, rss_max_bytes: rss, commands };
      log.info(
        {
          variant: spec.name,
          offered: Math.round(ratePerS * 10) / 10,
          started: Math.round(measured.started_turns_per_s),
          completed: Math.round(measured.completed_turns_per_s),
          p50Ms: Math.round(measured.latency_p50_ms * 10) / 10,
          p99Ms: Math.round(measured.latency_p99_ms * 10) / 10,
          failed: measured.failed_turns,
          shed: measured.shed_turns,
          inFlightMax: measured.max_in_flight,
          lagMs: Math.round(measured.max_schedule_lag_ms),
          drained: measured.drained,
          cpuCores: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v === undefined ? null : Math.round((v / wallMs) * 100) / 100])),
        },
        'load step',
      );
      return measured;
    };

    const windowFor = (rate: number, turns: number) => Math.min(plan.maxWindowMs, Math.max(plan.windowMs, (turns / rate) * 1000));
    let pilotTurnsPerS: number | null = null;
    let turnsRun = 0;
    let startRatePerS = plan.startRatePerS;
    if (startRatePerS === undefined) {
      const pilot = await driver.request('pilot', plan.pilot, plan.pilot.warmupMs + plan.pilot.maxMs + 120_000);
      pilotTurnsPerS = Number(pilot.turns_per_s);
      turnsRun += Number(pilot.ended_turns);
      startRatePerS = Math.max(0.1, pilotTurnsPerS / 2);
      log.info({ variant: spec.name, pilotTurnsPerS: Math.round(pilotTurnsPerS * 10) / 10, inFlight: plan.pilot.inFlight, turns: pilot.ended_turns }, 'closed-loop pilot');
    }
    const search = await searchCeiling((rate) => step(rate, windowFor(rate, plan.minStepTurns)), { ...plan, startRatePerS });
    log.info({ variant: spec.name, maxTurnsPerS: Math.round(search.maxTurnsPerS), stoppedBy: search.stoppedBy }, 'ceiling found');
    const points: VariantResult['points'] = [];
    if (spec.latencyPoints && search.maxTurnsPerS > 0) {
      for (const fraction of plan.fractions) {
        const rate = search.maxTurnsPerS * fraction;
        points.push({ fraction, step: await step(rate, windowFor(rate, plan.latencyTurns)) });
      }
    }
    turnsRun += [...search.steps, ...points.map((p) => p.step)].reduce((a, s) => a + s.ended_turns, 0);
    return { spec, pilotTurnsPerS, startRatePerS, turnsRun, search, points, idleRssBytes, durationMs: performance.now() - started };
  } finally {
    // Workers first: the driver's close obliterates the queues and drops the database under them.
    await worker?.stop(10_000);
    await driver?.stop(30_000);
    const left = await deleteKeys(ctx.admin, `${prefix}*`);
    if (left > 0) log.warn({ variant: spec.name, keys: left }, 'keys left under the prefix: removed');
    ctx.onLeftoverKeys(left);
  }
}
