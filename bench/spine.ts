// The spine part: what voxq's queue spine costs over three bare BullMQ queues on the same
// Redis, at the same concurrency. Each variant runs in its own process (bench/spine-variant.ts)
// with its own BullMQ prefix; variants are interleaved over rounds and medians reported, so
// the baseline is always measured in the same run as what it is compared with.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startOtlpReceiver, type OtlpReceiver } from '../tests/support/otlp-receiver.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { startBundledFerretDb } from '../src/shared/store/bundled-ferretdb.js';
import { benchLogger } from './support/log.js';
import { deleteKeys } from './support/redis-space.js';
import { fig, median } from './support/stats.js';
import { runTsChild } from './support/variant-child.js';

export const SPINE_HELP = `spine: voxq's queue spine against three bare BullMQ queues (same Redis, same concurrency)

  npm run bench -- spine [options]

  --rounds N         interleaved rounds of raw / voxq / voxq untraced (default 3; medians reported)
  --turns N          turns in flight for throughput (default 400)
  --batches N        throughput batches per process (default 5; median)
  --latency-turns N  sequential turns for p50/p99 (default 200)
  --warmup N         warm-up turns per process, in batches of --turns (default 1000)
  --concurrency N    per stage worker (default 8)
  --no-mongo         skip the real-store variant (MONGO_URL, else the bundled FerretDB)
  --no-ffprobe       skip the variant that probes every turn's audio with ffprobe
  --no-text          skip the text-turn variant
  --no-bytes         skip the Redis bytes-per-turn measurement
  --no-profile       skip the CPU profile of a traced throughput batch
  --quick            one round, fewer turns (a smoke test, not figures)

Figures: one JSON line on stdout; progress and tables on stderr.
Targets (printed, not asserted): throughput_ratio >= 0.8, added_p50_ms <= 2, redis_bytes_per_turn <= 2048.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VARIANT_SCRIPT = 'bench/spine-variant.ts';
const CHILD_TIMEOUT_MS = 180_000;
const TARGETS = { throughput_ratio: 0.8, added_p50_ms: 2, redis_bytes_per_turn: 2048 };

type Figures = Record<string, unknown>;

interface Variant {
  name: string;
  kind: 'raw' | 'voxq' | 'bytes';
  traced: boolean;
  args: string[];
  env?: Record<string, string>;
}

const num = (figures: Figures | undefined, key: string): number => {
  const value = figures?.[key];
  return typeof value === 'number' ? value : Number.NaN;
};

export async function runSpine(argv: readonly string[]): Promise<Figures> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string' },
      turns: { type: 'string' },
      batches: { type: 'string' },
      'latency-turns': { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      'no-mongo': { type: 'boolean', default: false },
      'no-ffprobe': { type: 'boolean', default: false },
      'no-text': { type: 'boolean', default: false },
      'no-bytes': { type: 'boolean', default: false },
      'no-profile': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
  });
  const count = (value: string | undefined, fallback: number, name: string): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const quick = values.quick;
  const rounds = count(values.rounds, quick ? 1 : 3, 'rounds');
  const turns = count(values.turns, quick ? 100 : 400, 'turns');
  const latencyTurns = count(values['latency-turns'], quick ? 50 : 200, 'latency-turns');
  const warmup = count(values.warmup, quick ? 100 : 1000, 'warmup');
  const concurrency = count(values.concurrency, 8, 'concurrency');
  const batches = count(values.batches, quick ? 1 : 5, 'batches');
  const common = ['--concurrency', String(concurrency)];
  const counts = (c: { turns: number; batches: number; latency: number; warmup: number }) => [
    ...common,
    ...['--turns', String(c.turns), '--batches', String(c.batches)],
    ...['--latency-turns', String(c.latency), '--warmup', String(c.warmup)],
  ];
  const full = counts({ turns, batches, latency: latencyTurns, warmup });
  // The slow variants run fewer turns: an ffprobe spawn per turn (~100 ms of CPU here), and a
  // database round trip per store call (FerretDB on SQLite: several ms each, ~30 a turn). Their
  // cost dwarfs JIT warm-up, so they warm up briefly.
  const ffprobeCounts = counts({ turns: Math.max(10, Math.round(turns / 8)), batches: 1, latency: Math.max(5, Math.round(latencyTurns / 10)), warmup: 20 });
  const mongoCounts = counts({ turns: Math.max(10, Math.round(turns / 20)), batches: 1, latency: Math.max(5, Math.round(latencyTurns / 20)), warmup: 10 });

  const log = benchLogger('voxq-bench-spine');
  const started = performance.now();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const admin = createRedis(redisUrl, 'producer', 'voxq-bench-admin');
  let receiver: OtlpReceiver | undefined;
  let stopFerret: (() => Promise<void>) | undefined;
  let leftoverKeys = 0;
  let lingering = 0;
  const spanCounts: { spans: number; turns: number }[] = [];
  const traceRequests: number[] = [];

  try {
    // The collector keeps what it gets and decodes it after each variant: decoding on the same
    // cores would charge a collector's CPU to voxq (it runs on its own host in production).
    receiver = await startOtlpReceiver({ deferDecoding: true });
    const otlp = receiver;
    const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));

    const run = async (variant: Variant): Promise<Figures> => {
      const prefix = `vbench-${randomBytes(5).toString('hex')}`;
      otlp.clear();
      const env: NodeJS.ProcessEnv = {
        ...baseEnv,
        ...variant.env,
        REDIS_URL: redisUrl,
        OTEL_SDK_DISABLED: variant.traced ? 'false' : 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      };
      log.info({ variant: variant.name }, 'variant starting');
      try {
        const child = await runTsChild(VARIANT_SCRIPT, [variant.kind, '--prefix', prefix, ...variant.args], { env, cwd: ROOT, timeoutMs: CHILD_TIMEOUT_MS });
        if (child.exitCode !== 0) lingering += 1;
        const figures = child.figures;
        if (variant.traced && variant.kind === 'voxq') {
          spanCounts.push({ spans: otlp.spans.length, turns: num(figures, 'turns_total') });
          traceRequests.push(otlp.requests.filter((r) => r.path === '/v1/traces').length);
        }
        log.info({ variant: variant.name, wallMs: Math.round(child.wallMs), figures: summary(figures) }, 'variant done');
        return figures;
      } finally {
        const left = await deleteKeys(admin, `${prefix}*`);
        if (left > 0) log.warn({ variant: variant.name, prefix, keys: left }, 'variant left keys behind: removed');
        leftoverKeys += left;
      }
    };
    const optional = async (enabled: boolean, variant: () => Promise<Variant>): Promise<Figures | undefined> => {
      if (!enabled) return undefined;
      let spec: Variant | undefined;
      try {
        spec = await variant();
        return await run(spec);
      } catch (error) {
        log.warn({ variant: spec?.name, err: error }, 'optional variant failed: its figures are null');
        return undefined;
      }
    };

    // Core: raw vs voxq traced vs voxq untraced, interleaved, rotated each round.
    const core: Variant[] = [
      { name: 'raw', kind: 'raw', traced: false, args: full },
      { name: 'voxq', kind: 'voxq', traced: true, args: full },
      { name: 'voxq_untraced', kind: 'voxq', traced: false, args: full },
    ];
    const results = new Map<string, Figures[]>(core.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r += 1) {
      for (let i = 0; i < core.length; i += 1) {
        const variant = core[(i + r) % core.length] as Variant;
        results.get(variant.name)?.push(await run(variant));
      }
    }

    const text = await optional(!values['no-text'], () => Promise.resolve({ name: 'voxq_text', kind: 'voxq', traced: true, args: [...full, '--input', 'text'] }));
    const ffprobe = await optional(!values['no-ffprobe'], () =>
      Promise.resolve({ name: 'voxq_ffprobe', kind: 'voxq', traced: true, args: [...ffprobeCounts, '--probe', 'ffprobe'] }),
    );
    const mongo = await optional(!values['no-mongo'], async () => {
      let url = process.env.MONGO_URL;
      if (!url) {
        log.info('MONGO_URL is not set: starting the bundled FerretDB');
        const ferret = await startBundledFerretDb({ log });
        stopFerret = () => ferret.stop();
        url = ferret.uri;
      }
      const dbName = `vbench_${randomBytes(5).toString('hex')}`;
      return { name: 'voxq_mongo', kind: 'voxq', traced: true, args: [...mongoCounts, '--store', 'mongo', '--mongo-db', dbName], env: { MONGO_URL: url } };
    });
    await stopFerret?.();
    stopFerret = undefined;
    const bytes = await optional(!values['no-bytes'], () => Promise.resolve({ name: 'bytes', kind: 'bytes', traced: true, args: common }));
    const profile = await optional(!values['no-profile'], () =>
      Promise.resolve({ name: 'voxq_profile', kind: 'voxq', traced: true, args: [...common, '--turns', String(turns), '--batches', '1', '--latency-turns', '1', '--warmup', String(warmup), '--profile'] }),
    );

    // Figures.
    const raw = results.get('raw') ?? [];
    const voxq = results.get('voxq') ?? [];
    const untraced = results.get('voxq_untraced') ?? [];
    const med = (runs: Figures[], key: string) => median(runs.map((f) => num(f, key)).filter(Number.isFinite));
    const rawTput = med(raw, 'turns_per_s');
    const voxqTput = med(voxq, 'turns_per_s');
    const untracedTput = med(untraced, 'turns_per_s');
    const ratioTo = (value: number) => fig(value / rawTput, 3);
    const figures: Figures = {
      part: 'spine',
      rounds,
      concurrency_per_stage: concurrency,
      throughput_turns: turns,
      latency_turns: latencyTurns,
      raw_turns_per_s: fig(rawTput, 1),
      voxq_turns_per_s: fig(voxqTput, 1),
      voxq_untraced_turns_per_s: fig(untracedTput, 1),
      throughput_ratio: ratioTo(voxqTput),
      throughput_ratio_untraced: ratioTo(untracedTput),
      throughput_ratio_mongo: ratioTo(num(mongo, 'turns_per_s')),
      throughput_ratio_with_ffprobe: ratioTo(num(ffprobe, 'turns_per_s')),
      throughput_ratio_text: ratioTo(num(text, 'turns_per_s')),
      raw_p50_ms: fig(med(raw, 'p50_ms'), 3),
      voxq_p50_ms: fig(med(voxq, 'p50_ms'), 3),
      added_p50_ms: fig(med(voxq, 'p50_ms') - med(raw, 'p50_ms'), 3),
      raw_p99_ms: fig(med(raw, 'p99_ms'), 3),
      voxq_p99_ms: fig(med(voxq, 'p99_ms'), 3),
      raw_cpu_us_per_turn: fig(med(raw, 'cpu_us_per_turn'), 0),
      voxq_cpu_us_per_turn: fig(med(voxq, 'cpu_us_per_turn'), 0),
      voxq_untraced_cpu_us_per_turn: fig(med(untraced, 'cpu_us_per_turn'), 0),
      // Steadier than wall-clock rates on a shared machine: what each turn costs this process's CPU.
      throughput_ratio_by_cpu: fig(med(raw, 'cpu_us_per_turn') / med(voxq, 'cpu_us_per_turn'), 3),
      throughput_ratio_untraced_by_cpu: fig(med(raw, 'cpu_us_per_turn') / med(untraced, 'cpu_us_per_turn'), 3),
      raw_redis_cpu_us_per_turn: fig(med(raw, 'redis_cpu_us_per_turn'), 0),
      voxq_redis_cpu_us_per_turn: fig(med(voxq, 'redis_cpu_us_per_turn'), 0),
      voxq_untraced_redis_cpu_us_per_turn: fig(med(untraced, 'redis_cpu_us_per_turn'), 0),
      raw_redis_commands_per_turn: fig(med(raw, 'redis_commands_per_turn'), 2),
      voxq_redis_commands_per_turn: fig(med(voxq, 'redis_commands_per_turn'), 2),
      voxq_untraced_p50_ms: fig(med(untraced, 'p50_ms'), 3),
      voxq_untraced_p99_ms: fig(med(untraced, 'p99_ms'), 3),
      voxq_mongo_turns_per_s: fig(num(mongo, 'turns_per_s'), 1),
      voxq_mongo_p50_ms: fig(num(mongo, 'p50_ms'), 3),
      voxq_mongo_p99_ms: fig(num(mongo, 'p99_ms'), 3),
      voxq_ffprobe_turns_per_s: fig(num(ffprobe, 'turns_per_s'), 1),
      voxq_ffprobe_p50_ms: fig(num(ffprobe, 'p50_ms'), 3),
      voxq_text_turns_per_s: fig(num(text, 'turns_per_s'), 1),
      voxq_text_p50_ms: fig(num(text, 'p50_ms'), 3),
      redis_bytes_per_turn: fig(num(bytes, 'redis_bytes_per_turn_10mb'), 0),
      redis_bytes_per_turn_10kb: fig(num(bytes, 'redis_bytes_per_turn_10kb'), 0),
      raw_redis_bytes_per_job: fig(num(bytes, 'raw_redis_bytes_per_job'), 0),
      redis_key_bytes_per_turn: fig(num(bytes, 'redis_key_bytes_per_turn_10mb'), 0),
      redis_key_bytes_per_turn_10kb: fig(num(bytes, 'redis_key_bytes_per_turn_10kb'), 0),
      raw_redis_key_bytes_per_job: fig(num(bytes, 'raw_redis_key_bytes_per_job'), 0),
      spans_per_turn: fig(median(spanCounts.map((c) => c.spans / c.turns)), 2),
      otlp_trace_posts_per_turn: fig(median(traceRequests.map((n, i) => n / (spanCounts[i]?.turns ?? Number.NaN))), 4),
      rounds_raw_turns_per_s: raw.map((f) => num(f, 'turns_per_s')),
      rounds_voxq_turns_per_s: voxq.map((f) => num(f, 'turns_per_s')),
      rounds_voxq_untraced_turns_per_s: untraced.map((f) => num(f, 'turns_per_s')),
    };
    // Where the time goes: mean segments of a turn, one in flight (traced, memory store), median over rounds.
    const segments = Object.keys(voxq[0] ?? {}).filter((k) => k.startsWith('lat_') && k.endsWith('_ms'));
    for (const key of segments) figures[`turn_${key.slice(4)}`] = fig(med(voxq, key), 3);
    for (const key of Object.keys(voxq[0] ?? {}).filter((k) => k.startsWith('tput_') && k.endsWith('_ms'))) {
      figures[`loaded_turn_${key.slice(5)}`] = fig(med(voxq, key), 2);
    }
    if (profile) Object.assign(figures, cpuShares(profile));
    Object.assign(figures, {
      target_min_throughput_ratio: TARGETS.throughput_ratio,
      target_max_added_p50_ms: TARGETS.added_p50_ms,
      target_max_redis_bytes_per_turn: TARGETS.redis_bytes_per_turn,
      leftover_keys_count: leftoverKeys,
      lingering_processes_count: lingering,
      duration_ms: fig(performance.now() - started, 0),
    });
    printTables(figures, profile);
    return figures;
  } finally {
    await stopFerret?.();
    await receiver?.close();
    await closeRedis(admin);
  }
}

/** Self time by package as a share of the busy (non-idle) main thread. */
function cpuShares(profile: Figures): Figures {
  const total = num(profile, 'profile_total_ms');
  const idle = num(profile, 'profile_idle_ms') || 0;
  const busy = total - idle;
  const out: Figures = { cpu_busy_ratio: fig(busy / total, 3) };
  for (const [key, value] of Object.entries(profile)) {
    const match = /^profile_(.+)_ms$/.exec(key);
    if (!match || match[1] === 'total' || match[1] === 'idle' || typeof value !== 'number') continue;
    out[`cpu_${match[1]}_ratio`] = fig(value / busy, 3);
  }
  return out;
}

function summary(figures: Figures): Figures {
  const keep = ['turns_per_s', 'batches_turns_per_s', 'cpu_us_per_turn', 'redis_cpu_us_per_turn', 'p50_ms', 'p99_ms', 'redis_bytes_per_turn_10kb', 'redis_bytes_per_turn_10mb', 'raw_redis_bytes_per_job'];
  return Object.fromEntries(Object.entries(figures).filter(([k]) => keep.includes(k)));
}

function printTables(figures: Figures, profile: Figures | undefined): void {
  const out = (line: string) => process.stderr.write(`${line}\n`);
  const show = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : 'n/a');
  out('\nspine: voxq vs three bare BullMQ queues (medians)');
  const targets: [string, string, (v: number) => boolean][] = [
    ['throughput_ratio', `>= ${TARGETS.throughput_ratio}`, (v) => v >= TARGETS.throughput_ratio],
    ['added_p50_ms', `<= ${TARGETS.added_p50_ms}`, (v) => v <= TARGETS.added_p50_ms],
    ['redis_bytes_per_turn', `<= ${TARGETS.redis_bytes_per_turn}`, (v) => v <= TARGETS.redis_bytes_per_turn],
  ];
  for (const [key, target, ok] of targets) {
    const value = figures[key];
    const verdict = typeof value === 'number' ? (ok(value) ? 'meets' : 'MISSES') : 'n/a';
    out(`  ${key.padEnd(34)} ${show(value).padStart(10)}   target ${target.padEnd(8)} ${verdict}`);
  }
  for (const key of ['raw_turns_per_s', 'voxq_turns_per_s', 'raw_cpu_us_per_turn', 'voxq_cpu_us_per_turn', 'voxq_untraced_cpu_us_per_turn', 'raw_redis_cpu_us_per_turn', 'voxq_redis_cpu_us_per_turn', 'voxq_untraced_redis_cpu_us_per_turn', 'throughput_ratio_by_cpu', 'throughput_ratio_untraced_by_cpu', 'throughput_ratio_untraced', 'throughput_ratio_mongo', 'throughput_ratio_with_ffprobe', 'throughput_ratio_text', 'raw_p50_ms', 'voxq_p50_ms', 'raw_p99_ms', 'voxq_p99_ms', 'redis_bytes_per_turn_10kb', 'raw_redis_bytes_per_job', 'spans_per_turn']) {
    out(`  ${key.padEnd(34)} ${show(figures[key]).padStart(10)}`);
  }
  out('\nwhere a turn\'s time goes (mean ms; one in flight | 400 in flight)');
  for (const key of Object.keys(figures).filter((k) => k.startsWith('turn_'))) {
    const loaded = figures[`loaded_${key}`];
    out(`  ${key.slice(5).padEnd(34)} ${show(figures[key]).padStart(10)} | ${show(loaded).padStart(10)}`);
  }
  if (profile) {
    out('\nCPU, traced throughput batch (share of busy main thread)');
    for (const [key, value] of Object.entries(figures).filter(([k]) => k.startsWith('cpu_')).sort((a, b) => Number(b[1]) - Number(a[1]))) {
      out(`  ${key.padEnd(34)} ${show(value).padStart(10)}`);
    }
    const top = profile.profile_top;
    if (Array.isArray(top)) {
      out('  heaviest functions (self ms):');
      for (const entry of top as { name: string; where: string; self_ms: number }[]) out(`    ${String(entry.self_ms).padStart(8)}  ${entry.name}  ${entry.where}`);
    }
  }
  out('');
}
