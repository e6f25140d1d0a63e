// One variant of the spine benchmark in its own process (OpenTelemetry's global providers are
// registered once per process, so traced and untraced runs must not share one). The spine part
// spawns this; its stdout ends with one JSON line of figures.
//
//   tsx bench/spine-variant.ts raw   --prefix P [--concurrency 8 --warmup 1000 --turns 400 --batches 5 --latency-turns 200]
//   tsx bench/spine-variant.ts voxq  --prefix P [… --store memory|mongo --mongo-db D --input audio|text --probe stub|ffprobe --profile]
//   tsx bench/spine-variant.ts bytes --prefix P [--bytes-turns 200 --bytes-repeats 3]
//
// Tracing follows the standard variables (OTEL_SDK_DISABLED, OTEL_EXPORTER_OTLP_ENDPOINT), as in the product.
import { parseArgs } from 'node:util';
import { makeWav } from '../tests/support/wav.js';
import { startTracing, type TracingHandle } from '../src/shared/telemetry/tracing.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { RAW_PAYLOAD, startRawChain } from './spine/raw-chain.js';
import { breakdown, type TimedTurn } from './spine/turn-breakdown.js';
import { startVoxqBench, type TurnInputKind, type VoxqBench } from './spine/voxq-pipeline.js';
import { profiled, type ProfileSummary } from './support/cpu-profile.js';
import { commandCounts, commandsSince, countRedisCommands } from './support/command-count.js';
import { benchLogger, printFigures } from './support/log.js';
import { redisCpuUs } from './support/redis-cpu.js';
import { keyBytes, usedMemoryBytes } from './support/redis-space.js';
import { fig, mean, median, percentile } from './support/stats.js';

/** 16 kHz mono 16-bit PCM: 32 bytes per ms. */
export const AUDIO_10KB = () => makeWav({ durationMs: 320 });
export const AUDIO_10MB = () => makeWav({ durationMs: Math.round((10 * 1024 * 1024) / 32) });
const SEQUENTIAL_WARMUP = 20;

const log = benchLogger('voxq-bench-variant');
// The turn documents' timestamps come from Date.now(): the breakdown uses the same clock.
const nowMs = () => Date.now();

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    prefix: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '1000' },
    turns: { type: 'string', default: '400' },
    'latency-turns': { type: 'string', default: '200' },
    batches: { type: 'string', default: '5' },
    sessions: { type: 'string', default: '50' },
    store: { type: 'string', default: 'memory' },
    'mongo-db': { type: 'string' },
    input: { type: 'string', default: 'audio' },
    probe: { type: 'string', default: 'stub' },
    profile: { type: 'boolean', default: false },
    'bytes-turns': { type: 'string', default: '200' },
    'bytes-repeats': { type: 'string', default: '3' },
  },
});

const int = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
};

const kind = positionals[0];
const prefix = values.prefix ?? '';
if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error('--prefix is required (letters, digits, _ and -)');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const concurrency = int('concurrency');
const warmup = int('warmup');
const turnsN = int('turns');
const latencyN = int('latency-turns');
const batches = Math.max(1, int('batches'));

/** Warm-up in batches the size of the measured ones: the JIT needs a few thousand jobs to settle. */
async function warmUp(batch: (count: number) => Promise<unknown>, one: () => Promise<unknown>): Promise<void> {
  for (let left = warmup; left > 0; left -= Math.max(1, turnsN)) await batch(Math.min(left, Math.max(1, turnsN)));
  for (let i = 0; i < SEQUENTIAL_WARMUP; i += 1) await one();
}

/** Throughput of `batches` runs of `turnsN` turns (median), with this process's and Redis's CPU and the Redis commands per turn. */
async function throughput<T>(batch: () => Promise<T>): Promise<{ turnsPerS: number; last: T; extra: Record<string, unknown> }> {
  const rates: number[] = [];
  const cpuUs: number[] = [];
  const redisUs: number[] = [];
  const commands: number[] = [];
  let last: T | undefined;
  const admin = createRedis(redisUrl, 'producer', 'voxq-bench-cpu');
  try {
    for (let b = 0; b < batches; b += 1) {
      const redisBefore = await redisCpuUs(admin);
      const cpu = process.cpuUsage();
      const sent = commandCounts();
      const t0 = performance.now();
      last = await batch();
      rates.push(turnsN / ((performance.now() - t0) / 1000));
      const used = process.cpuUsage(cpu);
      cpuUs.push((used.user + used.system) / turnsN);
      commands.push([...commandsSince(sent).values()].reduce((a, n) => a + n, 0) / turnsN);
      redisUs.push(((await redisCpuUs(admin)) - redisBefore) / turnsN);
    }
  } finally {
    await closeRedis(admin);
  }
  log.debug({ kind, rates: rates.map((r) => Math.round(r)) }, 'throughput batches');
  return {
    turnsPerS: median(rates),
    last: last as T,
    extra: {
      cpu_us_per_turn: fig(median(cpuUs), 0),
      redis_cpu_us_per_turn: fig(median(redisUs), 0),
      redis_commands_per_turn: fig(median(commands), 2),
      batches_turns_per_s: rates.map((r) => fig(r, 1)),
    },
  };
}

interface Measured {
  turnsPerS: number;
  latenciesMs: number[];
  extra: Record<string, unknown>;
}

function latencyFigures(latenciesMs: number[]): Record<string, number | null> {
  return {
    p50_ms: fig(percentile(latenciesMs, 50), 3),
    p99_ms: fig(percentile(latenciesMs, 99), 3),
    mean_ms: fig(mean(latenciesMs), 3),
  };
}

async function measureRaw(): Promise<Measured> {
  const chain = await startRawChain({ redisUrl, prefix, concurrency, workers: true });
  try {
    await warmUp((n) => chain.turns(n), () => chain.turn());
    const { turnsPerS, extra } = values.profile
      ? (await profiled(() => throughput(() => chain.turns(turnsN)))).result
      : await throughput(() => chain.turns(turnsN));
    const latenciesMs: number[] = [];
    for (let i = 0; i < latencyN; i += 1) {
      const started = performance.now();
      await chain.turn();
      latenciesMs.push(performance.now() - started);
    }
    return { turnsPerS, latenciesMs, extra: { ...extra, turns_total: warmup + SEQUENTIAL_WARMUP + turnsN * batches + latencyN } };
  } finally {
    await chain.close();
  }
}

interface Batch {
  startMs: number;
  /** Turn id → when the client had its result. */
  ends: Map<string, number>;
}

/** All turns enqueued together, then all awaited (the client's view only: nothing else is timed). */
async function turnBatch(bench: VoxqBench, input: TurnInputKind, count: number): Promise<Batch> {
  const startMs = nowMs();
  const handles = await Promise.all(Array.from({ length: count }, () => bench.enqueue(input)));
  const ends = await Promise.all(handles.map(async (h) => (await h.result(), [h.turnId, nowMs()] as const)));
  return { startMs, ends: new Map(ends) };
}

/** The batch's turn documents, read after the clock stopped. */
async function documents(bench: VoxqBench, batch: Batch): Promise<TimedTurn[]> {
  return Promise.all([...batch.ends].map(async ([turnId, endMs]) => ({ turn: await bench.turn(turnId), startMs: batch.startMs, endMs })));
}

async function measureVoxq(tracing: TracingHandle): Promise<Measured> {
  const input = values.input === 'text' ? 'text' : 'audio';
  const mongoUrl = process.env.MONGO_URL;
  if (values.store === 'mongo' && !mongoUrl) throw new Error('--store mongo needs MONGO_URL');
  const bench = await startVoxqBench({
    redisUrl,
    prefix,
    concurrency,
    store: values.store === 'mongo' ? { kind: 'mongo', url: mongoUrl ?? '', dbName: values['mongo-db'] ?? `${prefix}_db` } : { kind: 'memory' },
    probe: values.probe === 'ffprobe' ? 'ffprobe' : 'stub',
    audio: AUDIO_10KB(),
    workers: true,
    sessions: int('sessions'),
    tracing,
  });
  try {
    await warmUp(
      (n) => turnBatch(bench, input, n),
      async () => (await bench.enqueue(input)).result(),
    );

    let profile: ProfileSummary | undefined;
    let measured: Awaited<ReturnType<typeof throughput<Batch>>>;
    if (values.profile) ({ result: measured, summary: profile } = await profiled(() => throughput(() => turnBatch(bench, input, turnsN))));
    else measured = await throughput(() => turnBatch(bench, input, turnsN));
    const { turnsPerS } = measured;
    const batch = await documents(bench, measured.last);

    const sequential: TimedTurn[] = [];
    const latenciesMs: number[] = [];
    for (let i = 0; i < latencyN; i += 1) {
      const startMs = nowMs();
      const started = performance.now();
      const handle = await bench.enqueue(input);
      await handle.result();
      latenciesMs.push(performance.now() - started);
      const endMs = nowMs();
      sequential.push({ turn: await bench.turn(handle.turnId), startMs, endMs });
    }
    const failed = [...batch, ...sequential].filter((t) => t.turn.status !== 'completed').length;
    if (failed > 0) throw new Error(`${failed} turns did not complete`);
    const extra: Record<string, unknown> = {
      ...measured.extra,
      turns_total: warmup + SEQUENTIAL_WARMUP + turnsN * batches + latencyN,
      traced: tracing.bullmq !== undefined,
    };
    for (const [segment, ms] of Object.entries(breakdown(sequential))) extra[`lat_${segment}_ms`] = fig(ms, 3);
    for (const [segment, ms] of Object.entries(breakdown(batch))) extra[`tput_${segment}_ms`] = fig(ms, 3);
    if (profile) {
      extra.profile_total_ms = fig(profile.totalMs, 1);
      for (const [bucket, ms] of Object.entries(profile.bucketsMs)) extra[`profile_${bucket.replace(/[^a-z0-9]+/gi, '_')}_ms`] = fig(ms, 1);
      extra.profile_top = profile.top.map((t) => ({ name: t.name, where: t.where, self_ms: fig(t.selfMs, 1) }));
    }
    return { turnsPerS, latenciesMs, extra };
  } finally {
    await bench.close();
  }
}

/** Redis memory per queued item: used_memory and the keys' own MEMORY USAGE, after minus before, ÷ n. */
async function queuedBytes(fill: (subPrefix: string) => Promise<{ addOne: () => Promise<unknown>; close: () => Promise<void> }>, label: string) {
  const n = int('bytes-turns');
  const redis = createRedis(redisUrl, 'producer', 'voxq-bench-bytes');
  const used: number[] = [];
  const keys: number[] = [];
  try {
    for (let r = 0; r < int('bytes-repeats'); r += 1) {
      const sub = `${prefix}${label}${r}`;
      const target = await fill(sub);
      try {
        await target.addOne(); // one-off keys (queue meta, events stream) are not per-turn costs
        const before = await usedMemoryBytes(redis);
        const keysBefore = await keyBytes(redis, `${sub}:*`);
        for (let i = 0; i < n; i += 1) await target.addOne();
        const after = await usedMemoryBytes(redis);
        const keysAfter = await keyBytes(redis, `${sub}:*`);
        used.push((after - before) / n);
        keys.push((keysAfter.bytes - keysBefore.bytes) / n);
      } finally {
        await target.close();
      }
    }
  } finally {
    await closeRedis(redis);
  }
  log.info({ label, usedPerItem: used.map((u) => Math.round(u)), keyBytesPerItem: keys.map((k) => Math.round(k)) }, 'queued bytes');
  return { used: median(used), keys: median(keys) };
}

async function measureBytes(tracing: TracingHandle): Promise<Record<string, unknown>> {
  const raw = await queuedBytes(async (sub) => {
    const chain = await startRawChain({ redisUrl, prefix: sub, concurrency, workers: false });
    let i = 0;
    return { addOne: () => chain.queue('a').add('hop', RAW_PAYLOAD, { jobId: `q${(i += 1)}.a`, removeOnComplete: true }), close: () => chain.close() };
  }, 'r');
  const voxqFill = (audio: Uint8Array) => async (sub: string) => {
    const bench = await startVoxqBench({ redisUrl, prefix: sub, concurrency, store: { kind: 'memory' }, probe: 'stub', audio, workers: false, sessions: 1, tracing });
    return { addOne: () => bench.enqueue('audio'), close: () => bench.close() };
  };
  const small = await queuedBytes(voxqFill(AUDIO_10KB()), 's');
  const large = await queuedBytes(voxqFill(AUDIO_10MB()), 'l');
  return {
    raw_redis_bytes_per_job: fig(raw.used, 0),
    raw_redis_key_bytes_per_job: fig(raw.keys, 0),
    redis_bytes_per_turn_10kb: fig(small.used, 0),
    redis_key_bytes_per_turn_10kb: fig(small.keys, 0),
    redis_bytes_per_turn_10mb: fig(large.used, 0),
    redis_key_bytes_per_turn_10mb: fig(large.keys, 0),
    traced: tracing.bullmq !== undefined,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  countRedisCommands();
  let figures: Record<string, unknown>;
  if (kind === 'raw') {
    const m = await measureRaw();
    figures = { turns_per_s: fig(m.turnsPerS, 1), ...latencyFigures(m.latenciesMs), ...m.extra };
  } else if (kind === 'voxq' || kind === 'bytes') {
    const tracing = startTracing('voxq-bench');
    try {
      if (kind === 'bytes') figures = await measureBytes(tracing);
      else {
        const m = await measureVoxq(tracing);
        figures = { turns_per_s: fig(m.turnsPerS, 1), ...latencyFigures(m.latenciesMs), ...m.extra };
      }
    } finally {
      await tracing.shutdown();
    }
  } else {
    throw new Error(`unknown variant kind ${kind ?? '(none)'}: raw, voxq or bytes`);
  }
  printFigures({ kind, ...figures, duration_ms: fig(performance.now() - started, 0) });
  // Everything is closed by now; if something still holds the loop, say what, then leave.
  setTimeout(() => {
    log.warn({ resources: process.getActiveResourcesInfo() }, 'variant did not exit on its own: something was left open');
    process.exit(3);
  }, 10_000).unref();
}

main().catch((error: unknown) => {
  log.error({ err: error }, 'variant failed');
  process.exitCode = 1;
});
