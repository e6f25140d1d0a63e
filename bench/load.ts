// The load part: how many turns a second voxq completes with zero-latency fakes before more
// offered turns stop adding completions, beside the raw BullMQ chain (three no-op queues) on the
// same Redis in the same run; the latency at 50, 80 and 100 % of that ceiling; and the memory of
// a worker process there. On the bundled FerretDB (workers and driver in processes of their own)
// and on the in-memory stores (one process: those stores are not shared between processes).
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { startBundledFerretDb, type BundledFerretDb } from '../src/shared/store/bundled-ferretdb.js';
import { runVariant, type LoadPlan, type MeasuredStep, type VariantResult, type VariantSpec } from './load/load-variant.js';
import { benchLogger } from './support/log.js';
import { childPid } from './support/proc-stats.js';
import { fig, median } from './support/stats.js';

export const LOAD_HELP = `load: the most turns a second voxq completes (zero-latency fakes), beside three bare BullMQ queues

  npm run bench -- load [options]

  --start-rate N     first offered rate, turns/s (default: half what a closed-loop pilot of 16 turns
                     in flight completes); doubled while completions rise >= 5 % (a doubling that
                     adds less is run twice before the search ends on it: the machine is shared)
  --window-ms N      each step's measured window, after --warmup-ms of the same rate (default 4000,
                     2000), stretched to hold 20 arrivals, up to 20 s
  --latency-turns N  latency points stretch their window to this many arrivals, up to 20 s (default 600)
  --max-in-flight N  arrivals past this many turns in flight are shed, bounding a step's backlog (default 1000)
  --concurrency N    jobs per stage (default 16; every variant)
  --sessions N       sessions the turns are spread over (default 500)
  --no-raw           skip the raw chain (ratios are then null)
  --no-memory        skip the in-memory stores
  --no-mongo         skip the database (MONGO_URL, else the bundled FerretDB)
  --quick            shorter steps, higher first rate (a smoke test, not figures)

Arrivals are open-loop: turns start on a fixed schedule whatever has finished. A turn: enqueueTurn
with 10 KB of audio (the probe answered from one ffprobe run), stt → llm → tts on the fakes (the
LLM's default reply, 2 sentences: 2 TTS jobs), result() (the reply's audio read back); untraced.
The raw chain's turn: add hop a, await hop c's completion (QueueEvents).
Layout: on the database the stage workers run in one process of their own (all three stages) and
the turns are offered from another; the raw chain is measured the same way (raw_chain_*). The
in-memory stores live in one process, so workers and offering share it (*_memory), beside the
raw chain in one process too (raw_chain_*_one_process).
  max_turns_per_s            the most completions/s of any step (results read by the driver)
  latency_p50/p99_ms_at_Npct enqueue → result() of the turns started in the window, at N % of the max
  worker_rss_bytes           the worker process's most resident memory during the 100 % step
                             (_memory: the one process, holding every turn of the run in its stores)
  redis_commands_per_turn    commands sent by the driver and workers at 50 %, per turn (a pipeline
                             or MULTI counts each command in it); the raw chain's below its ceiling
  node_cpu_us_per_turn       CPU of the Node processes (driver + workers) per turn at 50 %, the raw
                             chain's below its ceiling; voxq_vs_raw_cpu_ratio = raw's / voxq's
                             (steadier than the rates when other work shares the cores)
Figures: one JSON line on stdout; progress and tables on stderr. Shared machine: loadavg is reported.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FRACTIONS = [0.5, 0.8, 1] as const;

type Figures = Record<string, unknown>;

export async function runLoad(argv: readonly string[]): Promise<Figures> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'start-rate': { type: 'string' },
      'window-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'latency-turns': { type: 'string' },
      'max-in-flight': { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '16' },
      sessions: { type: 'string' },
      'no-raw': { type: 'boolean', default: false },
      'no-memory': { type: 'boolean', default: false },
      'no-mongo': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
  });
  const count = (value: string | undefined, fallback: number, name: string): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const quick = values.quick;
  const plan: LoadPlan = {
    startRatePerS: values['start-rate'] === undefined ? undefined : count(values['start-rate'], 1, 'start-rate'),
    pilot: quick ? { inFlight: 16, warmupMs: 1000, minMs: 1500, minTurns: 8, maxMs: 10_000 } : { inFlight: 16, warmupMs: 2000, minMs: 3000, minTurns: 16, maxMs: 30_000 },
    minGrowth: 0.05,
    maxSteps: quick ? 6 : 10,
    warmupMs: count(values['warmup-ms'], quick ? 500 : 2000, 'warmup-ms'),
    windowMs: count(values['window-ms'], quick ? 1000 : 4000, 'window-ms'),
    minStepTurns: quick ? 5 : 20,
    latencyTurns: count(values['latency-turns'], quick ? 100 : 600, 'latency-turns'),
    maxWindowMs: quick ? 3000 : 20_000,
    drainMs: 30_000,
    maxInFlight: count(values['max-in-flight'], 1000, 'max-in-flight'),
    concurrency: count(values.concurrency, 16, 'concurrency'),
    sessions: count(values.sessions, quick ? 100 : 500, 'sessions'),
    fractions: FRACTIONS,
  };

  const log = benchLogger('voxq-bench-load');
  const started = performance.now();
  const loadStart = loadavg()[0] ?? Number.NaN;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const admin = createRedis(redisUrl, 'producer', 'voxq-bench-load-admin');
  const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  let ferret: BundledFerretDb | undefined;
  let leftoverKeys = 0;
  const results = new Map<string, VariantResult>();
  try {
    let mongoUrl = process.env.MONGO_URL;
    let databasePid: number | undefined;
    if (!values['no-mongo'] && !mongoUrl) {
      log.info('MONGO_URL is not set: starting the bundled FerretDB');
      ferret = await startBundledFerretDb({ log });
      mongoUrl = ferret.uri;
      databasePid = await childPid(process.pid, 'ferretdb-test-server');
    }
    const ctx = { root: ROOT, redisUrl, admin, baseEnv, log, onLeftoverKeys: (n: number) => (leftoverKeys += n) };
    // Each raw layout right before the voxq variant it is compared with.
    const specs: VariantSpec[] = [];
    if (!values['no-memory']) {
      if (!values['no-raw']) specs.push({ name: 'raw_one_process', target: 'raw', workersApart: false, latencyPoints: false });
      specs.push({ name: 'memory', target: 'voxq', store: 'memory', workersApart: false, latencyPoints: true });
    }
    if (!values['no-mongo']) {
      if (!values['no-raw']) specs.push({ name: 'raw', target: 'raw', workersApart: true, latencyPoints: false });
      specs.push({ name: 'mongo', target: 'voxq', store: 'mongo', workersApart: true, latencyPoints: true, env: { MONGO_URL: mongoUrl, VOXQ_MONGO_DB: `vload_${Date.now().toString(36)}` } });
    }
    for (const spec of specs) {
      log.info({ variant: spec.name }, 'variant starting');
      results.set(spec.name, await runVariant(spec, plan, { ...ctx, ...(spec.store === 'mongo' && databasePid !== undefined ? { databasePid } : {}) }));
    }
  } finally {
    await ferret?.stop();
    await closeRedis(admin);
  }

  const raw = results.get('raw');
  const rawOne = results.get('raw_one_process');
  const mongo = results.get('mongo');
  const memory = results.get('memory');
  const figures: Figures = {
    part: 'load',
    max_turns_per_s: fig(mongo?.search.maxTurnsPerS ?? Number.NaN, 1),
    max_turns_per_s_memory: fig(memory?.search.maxTurnsPerS ?? Number.NaN, 1),
    raw_chain_max_turns_per_s: fig(raw?.search.maxTurnsPerS ?? Number.NaN, 1),
    raw_chain_max_turns_per_s_one_process: fig(rawOne?.search.maxTurnsPerS ?? Number.NaN, 1),
    voxq_vs_raw_ratio: fig((mongo?.search.maxTurnsPerS ?? Number.NaN) / (raw?.search.maxTurnsPerS ?? Number.NaN), 4),
    voxq_vs_raw_ratio_memory: fig((memory?.search.maxTurnsPerS ?? Number.NaN) / (rawOne?.search.maxTurnsPerS ?? Number.NaN), 4),
    // Steadier on a shared machine than rates: the raw chain's Node CPU per turn over voxq's.
    voxq_vs_raw_cpu_ratio: cpuRatio(raw, mongo),
    voxq_vs_raw_cpu_ratio_memory: cpuRatio(rawOne, memory),
    ...voxqFigures(mongo, ''),
    ...voxqFigures(memory, '_memory'),
    ...rawFigures(raw, ''),
    ...rawFigures(rawOne, '_one_process'),
    llm_reply: 'default (2 sentences)',
    concurrency_per_stage: plan.concurrency,
    sessions: plan.sessions,
    max_in_flight: plan.maxInFlight,
    step_window_ms: plan.windowMs,
    step_warmup_ms: plan.warmupMs,
    cpu_count: cpus().length,
    loadavg_1m_start: fig(loadStart, 2),
    loadavg_1m_end: fig(loadavg()[0] ?? Number.NaN, 2),
    leftover_keys_count: leftoverKeys,
    duration_ms: fig(performance.now() - started, 0),
  };
  printTables(results);
  return figures;
}

const perTurn = (value: number | undefined, turns: number, scale: number): number | null => fig(value === undefined || turns === 0 ? Number.NaN : (value * scale) / turns, 0);
const cores = (ms: number | undefined, wallMs: number): number | null => fig(ms === undefined ? Number.NaN : ms / wallMs, 2);
const totalCommands = (step: MeasuredStep) => Object.values(step.commands).reduce((a, n) => a + n, 0);
/** CPU µs per turn of the Node processes (driver and workers; Redis and the database aside). */
const nodeCpuUsPerTurn = (step: MeasuredStep) => (((step.cpu_ms.driver ?? Number.NaN) + (step.cpu_ms.worker ?? 0)) * 1000) / step.ended_turns;
/** The raw chain's steps below its ceiling (every turn drained, none shed). */
const belowCeiling = (result: VariantResult | undefined) =>
  (result?.search.steps ?? []).filter((s) => s.drained && s.shed_turns === 0 && s.ended_turns > 0 && s.completed_turns_per_s < 0.9 * (result?.search.maxTurnsPerS ?? 0));
const halfPoint = (result: VariantResult | undefined) => result?.points.find((p) => p.fraction === 0.5)?.step;
const cpuRatio = (raw: VariantResult | undefined, voxq: VariantResult | undefined) => {
  const half = halfPoint(voxq);
  return fig(median(belowCeiling(raw).map(nodeCpuUsPerTurn)) / (half ? nodeCpuUsPerTurn(half) : Number.NaN), 4);
};

function voxqFigures(result: VariantResult | undefined, suffix: string): Figures {
  const out: Figures = {};
  const point = (fraction: number) => result?.points.find((p) => p.fraction === fraction)?.step;
  for (const fraction of FRACTIONS) {
    const step = point(fraction);
    const pct = `${Math.round(fraction * 100)}pct`;
    out[`latency_p50_ms_at_${pct}${suffix}`] = fig(step?.latency_p50_ms ?? Number.NaN, 1);
    out[`latency_p99_ms_at_${pct}${suffix}`] = fig(step?.latency_p99_ms ?? Number.NaN, 1);
    out[`completed_turns_per_s_at_${pct}${suffix}`] = fig(step?.completed_turns_per_s ?? Number.NaN, 1);
    out[`latency_samples_at_${pct}${suffix}`] = step?.latency_samples ?? null;
  }
  const half = halfPoint(result);
  const full = point(1);
  out[`worker_rss_bytes${suffix}`] = full?.rss_max_bytes.worker ?? null;
  out[`worker_rss_idle_bytes${suffix}`] = result?.idleRssBytes.worker ?? null;
  if (half) {
    const turns = half.ended_turns;
    out[`redis_commands_per_turn${suffix}`] = fig(totalCommands(half) / turns, 1);
    out[`node_cpu_us_per_turn${suffix}`] = fig(nodeCpuUsPerTurn(half), 0);
    out[`worker_cpu_us_per_turn${suffix}`] = perTurn(suffix === '' ? half.cpu_ms.worker : half.cpu_ms.driver, turns, 1000);
    if (suffix === '') out.driver_cpu_us_per_turn = perTurn(half.cpu_ms.driver, turns, 1000);
    out[`redis_cpu_us_per_turn${suffix}`] = perTurn(half.cpu_ms.redis, turns, 1000);
    if (suffix === '') out.ferretdb_cpu_us_per_turn = perTurn(half.cpu_ms.database, turns, 1000);
  }
  if (full) {
    out[`worker_cores_at_100pct${suffix}`] = cores(suffix === '' ? full.cpu_ms.worker : full.cpu_ms.driver, full.wall_ms);
    if (suffix === '') out.driver_cores_at_100pct = cores(full.cpu_ms.driver, full.wall_ms);
    if (suffix === '') out.driver_rss_bytes = full.rss_max_bytes.driver ?? null;
    out[`redis_cores_at_100pct${suffix}`] = cores(full.cpu_ms.redis, full.wall_ms);
    if (suffix === '') out.ferretdb_cores_at_100pct = cores(full.cpu_ms.database, full.wall_ms);
    out[`shed_turns_at_100pct${suffix}`] = full.shed_turns;
  }
  const steps = result?.search.steps ?? [];
  const all = [...steps, ...(result?.points.map((p) => p.step) ?? [])];
  out[`failed_turns${suffix}`] = result ? all.reduce((a, s) => a + s.failed_turns, 0) : null;
  out[`turns_run${suffix}`] = result?.turnsRun ?? null;
  out[`shared_session_turns${suffix}`] = result ? all.reduce((a, s) => a + s.shared_session_turns, 0) : null;
  out[`pilot_turns_per_s${suffix}`] = fig(result?.pilotTurnsPerS ?? Number.NaN, 1);
  out[`search_offered_turns_per_s${suffix}`] = steps.map((s) => fig(s.offered_turns_per_s, 1));
  out[`search_completed_turns_per_s${suffix}`] = steps.map((s) => fig(s.completed_turns_per_s, 1));
  return out;
}

function rawFigures(result: VariantResult | undefined, suffix: string): Figures {
  const steps = result?.search.steps ?? [];
  const below = belowCeiling(result);
  return {
    [`raw_chain_redis_commands_per_turn${suffix}`]: fig(median(below.map((s) => totalCommands(s) / s.ended_turns)), 1),
    [`raw_chain_node_cpu_us_per_turn${suffix}`]: fig(median(below.map(nodeCpuUsPerTurn)), 0),
    [`raw_chain_pilot_turns_per_s${suffix}`]: fig(result?.pilotTurnsPerS ?? Number.NaN, 1),
    [`raw_chain_search_offered_turns_per_s${suffix}`]: steps.map((s) => fig(s.offered_turns_per_s, 1)),
    [`raw_chain_search_completed_turns_per_s${suffix}`]: steps.map((s) => fig(s.completed_turns_per_s, 1)),
  };
}

function printTables(results: Map<string, VariantResult>): void {
  const out = (line: string) => process.stderr.write(`${line}\n`);
  const n = (v: number | undefined, d = 0) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
  out('\nload: open-loop steps (turns/s; latency ms; cores used over the step, drain included)');
  out(`  ${'variant'.padEnd(16)} ${'offered'.padStart(8)} ${'started'.padStart(8)} ${'done'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'shed'.padStart(6)} ${'fail'.padStart(5)}  cores drv/wrk/redis/db`);
  for (const [name, result] of results) {
    const rows = [...result.search.steps.map((s) => ['search', s] as const), ...result.points.map((p) => [`${Math.round(p.fraction * 100)} %`, p.step] as const)];
    for (const [label, s] of rows) {
      const c = (ms: number | undefined) => n(ms === undefined ? undefined : ms / s.wall_ms, 2);
      out(
        `  ${`${name} ${label}`.padEnd(16)} ${n(s.offered_turns_per_s).padStart(8)} ${n(s.started_turns_per_s).padStart(8)} ${n(s.completed_turns_per_s).padStart(8)} ${n(s.latency_p50_ms, 1).padStart(8)} ${n(s.latency_p99_ms, 1).padStart(8)} ${String(s.shed_turns).padStart(6)} ${String(s.failed_turns).padStart(5)}  ${c(s.cpu_ms.driver)}/${c(s.cpu_ms.worker)}/${c(s.cpu_ms.redis)}/${c(s.cpu_ms.database)}`,
      );
    }
    out(`  ${name}: ceiling ${n(result.search.maxTurnsPerS, 1)} turns/s (stopped: ${result.search.stoppedBy}), ${n(result.durationMs / 1000, 0)} s`);
  }
  for (const [name, result] of results) {
    const half = result.points.find((p) => p.fraction === 0.5)?.step;
    if (!half || half.ended_turns === 0) continue;
    const top = Object.entries(half.commands).sort((a, b) => b[1] - a[1]).slice(0, 12);
    out(`\n${name}: Redis commands per turn at 50 % (driver + workers), heaviest first`);
    for (const [command, total] of top) out(`  ${command.padEnd(20)} ${(total / half.ended_turns).toFixed(2).padStart(8)}`);
  }
  out('');
}
