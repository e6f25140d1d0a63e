// The stream part: time to first audio of a streamed turn (the LLM stage hands each sentence to
// TTS as it completes) against the same turn with VOXQ_STREAMING=false (one TTS job for the whole
// reply), with fakes of fixed delays (tests/support/paced-fakes.ts), workers in processes of their
// own (tests/support/paced-worker.ts, two per variant), the bundled FerretDB as the database, and
// the first audio read by a consumer in yet another process (bench/support/stream-consumer.ts).
// Both variants run side by side on their own prefixes and databases, their turns interleaved,
// so each is measured under the same load. Then: barge-in (how soon a cancelled turn is quiet on
// every host, and whether anything of it starts after cancelSession returns) and MongoDB commands
// per turn, counted in every process (producer here, workers, consumer).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { tokenize, STREAM_BENCH_TIMINGS, type PacedTimings, type ProviderCall } from '../tests/support/paced-fakes.js';
import { seededRandom } from '../tests/support/seeded-random.js';
import { connect } from '../src/producers/sdk/connect.js';
import type { TurnEvent } from '../src/producers/sdk/turn-events.js';
import type { TurnHandle, VoxqClient } from '../src/producers/sdk/voxq-client.js';
import { encodeWavPcm16 } from '../src/shared/audio/wav.js';
import { configSchema } from '../src/shared/config.js';
import { stageJobId } from '../src/shared/contracts/jobs.js';
import type { StageName } from '../src/shared/contracts/turn.js';
import { SentenceSegmenter, splitSentences } from '../src/shared/pt-br/sentence-segmenter.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { startBundledFerretDb, type BundledFerretDb } from '../src/shared/store/bundled-ferretdb.js';
import { openMongoStores, type MongoStores } from '../src/shared/store/mongo-stores.js';
import { ChildScript } from './support/child-script.js';
import { ConsumerProcess } from './support/consumer-process.js';
import { RawChain } from './support/raw-chain.js';
import type { Logger } from '../src/shared/logger.js';
import { benchLogger } from './support/log.js';
import { RedisRtt } from './support/redis-rtt.js';
import { TimerLag } from './support/timer-lag.js';
import { addCommands, commandsBetween, MongoCommandCounter, withCommandMonitoring, workCommands } from './support/mongo-commands.js';
import { deleteKeys } from './support/redis-space.js';
import { fig, median, percentile } from './support/stats.js';
import type { ConsumerTurnReport } from './support/stream-consumer.js';

export const STREAM_HELP = `stream: time to first audio, streaming against VOXQ_STREAMING=false; barge-in; MongoDB commands per turn

  npm run bench -- stream [options]

  --turns N          sequential turns per variant: TTFA p50, where the time goes, MongoDB commands (default 20)
  --concurrent N     turns in flight at once for the loaded p99 (default 50)
  --bursts N         bursts of --concurrent turns per variant (default 1)
  --cancels N        cancelled turns, at points taken in turn: in STT, mid-LLM, after the first
                     audio chunk (streaming only: without it that chunk ends the turn) (default 21)
  --concurrency N    jobs per stage in each worker process (default 32; 2 worker processes per variant)
  --warmup N         sequential warm-up turns per variant (default 3)
  --dump FILE        also write every turn's timestamps, provider calls and cancel as JSON to FILE
  --quick            5 turns, one burst of 20, 6 cancels (a smoke test, not figures)

Fakes: STT 100 ms; LLM first token 150 ms, then 40 tokens/s of a 5-sentence reply of 12 tokens a
sentence; TTS 120 ms per sentence of its input. Database: the bundled FerretDB (built on first use).
Time to first audio (TTFA): from just before enqueueTurn (here) to the first sentence chunk read
by the consumer process (Date.now() on both sides). The fakes' own delay to the first audio is
worked out from the timings and the reply (streaming: STT + first token + 12 more tokens, the last
confirming the boundary + TTS of one sentence = 670 ms; not streaming: all 60 tokens + 5 × TTS).
  ttfa_ratio             streaming TTFA p50 / non-streaming TTFA p50 (sequential turns)
  ttfa_overhead_ms       streaming TTFA p50 − the fakes' delay; seg_*_ms split it at the jobs' and
                         calls' starts and ends (each less the fakes' delays within it)
  ttfa_overhead_p99_ms   the same over --concurrent turns enqueued at once, p99
  raw_chain_ttfa_overhead_ms   the floor: the same three job hand-offs, delays and stream read through
                         bare BullMQ workers in 2 processes (bench/support/raw-chain.ts), p50 − the
                         fakes' delay; ttfa_overhead_over_raw_chain_ms: voxq's TTFA p50 − the floor's
  cancel_quiet_p99_ms    cancelSession's return → the turn's last provider call end/abort, job start
                         or event on any host (0 when all came before), watched for 300 ms
  work_after_cancel      provider calls and jobs started after cancelSession returned
  mongo_ops_per_turn     MongoDB commands of the sequential turns (producer, workers, consumer) / turns
Figures: one JSON line on stdout; progress and tables on stderr.
Targets (printed, not asserted): ttfa_ratio <= 0.4, ttfa_overhead_ms <= 15, cancel_quiet_p99_ms <= 50, work_after_cancel = 0.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_SCRIPT = 'tests/support/paced-worker.ts';
const CONSUMER_SCRIPT = 'bench/support/stream-consumer.ts';
const WORKERS_PER_VARIANT = 2;
const START_TIMEOUT_MS = 90_000;
const TURN_TIMEOUT_MS = 60_000;
/** How long after cancelSession returns the hosts are watched for activity of the turn. */
const QUIET_WINDOW_MS = 300;
/** Longer than the workers' 100 ms flush of their MongoDB command counts. */
const COUNT_SETTLE_MS = 400;
const TARGETS = { ttfa_ratio: 0.4, ttfa_overhead_ms: 15, cancel_quiet_p99_ms: 50, work_after_cancel: 0 };

/** Five pt-BR sentences of exactly 12 tokens each as tokenize() splits them (checked at start). */
export const STREAM_REPLY =
  'Claro, eu posso ajudar você a remarcar a sua consulta. O próximo horário livre com a doutora é amanhã bem cedo. ' +
  'Ela atende na quinta, depois do almoço, se preferir. Lembre de levar o seu documento e a carteirinha do plano. ' +
  'Quer que eu já confirme o horário de amanhã para você?';
const REPLY_SENTENCES = 5;
const TOKENS_PER_SENTENCE = 12;

type Figures = Record<string, unknown>;
type VariantName = 'streaming' | 'non_streaming';

/** What the paced workers push to `<prefix>:paced-calls` (tests/support/paced-worker.ts). */
type PacedCall = (ProviderCall | { event: 'job'; at: number; jobId: string }) & { host: string };

const callsKey = (prefix: string) => `${prefix}:paced-calls`;
const workerMongoKey = (prefix: string) => `${prefix}:paced-mongo`;

/** The fakes' own delays from enqueue to the first sentence's audio, from the timings and the reply. */
export interface FakePath {
  /** Index of the token whose arrival hands the first sentence to TTS (it confirms the boundary). */
  handTokenIndex: number;
  firstSentence: string;
  ttsMs: number;
  totalMs: number;
}

export function fakePath(reply: string, timings: PacedTimings, streaming: boolean): FakePath {
  const tokens = tokenize(reply);
  let handTokenIndex = tokens.length - 1;
  let firstSentence = reply.trim();
  if (streaming) {
    const segmenter = new SentenceSegmenter();
    const found = tokens.findIndex((token) => {
      const out = segmenter.push(token);
      if (out[0] !== undefined) firstSentence = out[0];
      return out.length > 0;
    });
    if (found >= 0) handTokenIndex = found;
    else firstSentence = segmenter.end()[0] ?? firstSentence;
  }
  const ttsMs = timings.ttsMsPerSentence * Math.max(1, splitSentences(firstSentence).length);
  const totalMs = timings.sttMs + timings.firstTokenMs + handTokenIndex * (1000 / timings.tokensPerS) + ttsMs;
  return { handTokenIndex, firstSentence, ttsMs, totalMs };
}

interface Rig {
  name: VariantName;
  prefix: string;
  client: VoxqClient;
  stores: MongoStores;
  producerCommands: MongoCommandCounter;
  workers: ChildScript[];
  consumer: ConsumerProcess;
  path: FakePath;
  close(): Promise<void>;
}

interface TimedTurn {
  turnId: string;
  /** Just before enqueueTurn was called. */
  t0: number;
  /** When enqueueTurn returned. */
  enqueuedAt: number;
  report: ConsumerTurnReport;
  calls: PacedCall[];
}

interface BurstTurn {
  turnId: string;
  t0: number;
  enqueuedAt: number;
  report: ConsumerTurnReport;
  /** When each of its jobs started (`stt`, `llm`, `tts.0` …). */
  jobs: Record<string, number>;
}

const BURST_PARTS = ['to_stt_job', 'stt_job_to_llm_job', 'llm_job_to_tts_job', 'tts_job_to_delivered', 'delivered_to_read', 'enqueue_returned', 'consumer_started'] as const;
type BurstPart = (typeof BURST_PARTS)[number];

/**
 * A burst's time to first audio over the fakes, split at the job starts of the turn and the TTS
 * stage's delivery (the first five add up to it, each less the fakes' delays within it); and,
 * aside, when enqueueTurn returned and when the consumer had the turn's first event after that.
 */
function burstParts(turns: readonly BurstTurn[], path: FakePath, timings: PacedTimings): Record<BurstPart | 'overhead', number[]> {
  const out = Object.fromEntries([...BURST_PARTS, 'overhead'].map((k) => [k, [] as number[]])) as Record<BurstPart | 'overhead', number[]>;
  const tokensMs = timings.firstTokenMs + path.handTokenIndex * (1000 / timings.tokensPerS);
  for (const { t0, enqueuedAt, report, jobs } of turns) {
    const { firstAudioAt, firstSentenceAt, firstEventAt } = report;
    const [stt, llm, tts] = [jobs.stt, jobs.llm, jobs['tts.0']];
    if (firstAudioAt === null || firstSentenceAt === null || firstEventAt === null || stt === undefined || llm === undefined || tts === undefined) continue;
    out.overhead.push(firstAudioAt - t0 - path.totalMs);
    out.to_stt_job.push(stt - t0);
    out.stt_job_to_llm_job.push(llm - stt - timings.sttMs);
    out.llm_job_to_tts_job.push(tts - llm - tokensMs);
    out.tts_job_to_delivered.push(firstSentenceAt - tts - path.ttsMs);
    out.delivered_to_read.push(firstAudioAt - firstSentenceAt);
    out.enqueue_returned.push(enqueuedAt - t0);
    out.consumer_started.push(firstEventAt - enqueuedAt);
  }
  return out;
}

interface CancelResult {
  point: CancelPoint;
  cancelled: boolean;
  quietMs: number;
  /** How long cancelSession took to return. */
  callMs: number;
  /** From the cancelSession call (not its return) to the turn's last activity. */
  quietFromCallMs: number;
  /** From the cancelSession call to the last provider call end/abort or job start of the turn on the workers (0: none after the call). */
  workersQuietFromCallMs: number;
  startsAfter: number;
  lateEvents: number;
  /** What was last seen of the turn (for the table when the target is missed). */
  last: string;
}

type CancelPoint = 'stt' | 'llm' | 'first_audio';
const CANCEL_POINTS: readonly CancelPoint[] = ['stt', 'llm', 'first_audio'];

/** Segments of a sequential turn's time to first audio, in order: they add up to its overhead over the fakes. */
const SEGMENTS = [
  'enqueue_to_stt_job',
  'stt_job_to_call',
  'stt_call_over_fake',
  'stt_to_llm_job',
  'llm_job_to_call',
  'llm_tokens_over_fake',
  'hand_to_tts_job',
  'tts_job_to_call',
  'tts_call_over_fake',
  'tts_to_consumer_read',
] as const;
type Segment = (typeof SEGMENTS)[number];

export async function runStream(argv: readonly string[]): Promise<Figures> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      turns: { type: 'string' },
      concurrent: { type: 'string' },
      bursts: { type: 'string' },
      cancels: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      dump: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const count = (value: string | undefined, fallback: number, name: string): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
    return n;
  };
  const quick = values.quick;
  const turns = Math.max(1, count(values.turns, quick ? 5 : 20, 'turns'));
  const concurrent = count(values.concurrent, quick ? 20 : 50, 'concurrent');
  const bursts = count(values.bursts, 1, 'bursts');
  const cancels = count(values.cancels, quick ? 6 : 21, 'cancels');
  const concurrency = Math.max(1, count(values.concurrency, 32, 'concurrency'));
  const warmup = count(values.warmup, quick ? 1 : 3, 'warmup');

  const tokens = tokenize(STREAM_REPLY);
  if (tokens.join('') !== STREAM_REPLY || tokens.length !== REPLY_SENTENCES * TOKENS_PER_SENTENCE || splitSentences(STREAM_REPLY).length !== REPLY_SENTENCES) {
    throw new Error(`the reply must be ${REPLY_SENTENCES} sentences of ${TOKENS_PER_SENTENCE} tokens (it has ${tokens.length} tokens)`);
  }
  const timings = STREAM_BENCH_TIMINGS;

  const log = benchLogger('voxq-bench-stream');
  const started = performance.now();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const admin = createRedis(redisUrl, 'producer', 'voxq-bench-stream-admin');
  const rigs: Rig[] = [];
  let ferret: BundledFerretDb | undefined;
  let raw: RawChain | undefined;
  try {
    const ferretStarted = performance.now();
    ferret = await startBundledFerretDb({ log });
    const ferretStartMs = performance.now() - ferretStarted;
    const audio = toneWav(1000);

    const setup: RigSetup = { run: randomBytes(4).toString('hex'), redisUrl, mongoUrl: ferret.uri, admin, timings, concurrency, log, rigs };
    const [streamRig, batchRig] = [await startRig('streaming', setup), await startRig('non_streaming', setup)] as [Rig, Rig];
    const both = [streamRig, batchRig];
    // The floor: the same hand-offs and delays through bare BullMQ workers, measured beside the variants.
    const rawDelays: [number, number, number] = [timings.sttMs, streamRig.path.totalMs - timings.sttMs - streamRig.path.ttsMs, streamRig.path.ttsMs];
    raw = new RawChain({ root: ROOT, redisUrl, prefix: `vstream-${setup.run}-raw`, delaysMs: rawDelays, processes: WORKERS_PER_VARIANT, concurrency, admin });
    await raw.started(START_TIMEOUT_MS);
    const rawChain = raw;
    log.info({ ms: Math.round(performance.now() - started), fakeFirstAudioMs: streamRig.path.totalMs, fakeFirstAudioNonStreamingMs: batchRig.path.totalMs }, 'processes ready');

    const session = async (rig: Rig) => (await rig.client.createSession('bench-stream')).sessionId;
    // A turn that fails (the bundled FerretDB answers SQLITE_BUSY under load, say) is counted and left out.
    const errors: string[] = [];
    const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await work();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.push(message);
        log.warn({ what, err: error }, 'a benchmark turn failed; it is left out of the figures');
        return undefined;
      }
    };

    // Warm-up, then sequential turns, the variants taking turns; MongoDB commands counted around them.
    const sessions = new Map<VariantName, string>();
    for (const rig of both) sessions.set(rig.name, await session(rig));
    for (let i = 0; i < warmup; i += 1) {
      for (const rig of both) await attempt('warm-up turn', () => timedTurn(admin, rig, sessions.get(rig.name) ?? '', audio));
      await attempt('warm-up raw turn', () => rawChain.timedTurn());
    }
    const rawTtfa: number[] = [];
    await sleep(COUNT_SETTLE_MS);
    const before = new Map(await Promise.all(both.map(async (rig) => [rig.name, await mongoSnapshot(admin, rig)] as const)));
    const sequential = new Map<VariantName, TimedTurn[]>(both.map((rig) => [rig.name, []]));
    const load = [loadavg()[0] ?? Number.NaN];
    const timerLag = new TimerLag();
    const redisRtt = new RedisRtt(admin);
    for (let i = 0; i < turns; i += 1) {
      for (const rig of both) {
        const timed = await attempt('sequential turn', () => timedTurn(admin, rig, sessions.get(rig.name) ?? '', audio));
        if (timed) sequential.get(rig.name)?.push(timed);
      }
      const rawMs = await attempt('raw chain turn', () => rawChain.timedTurn());
      if (rawMs !== undefined) rawTtfa.push(rawMs);
    }
    const lags = await timerLag.stop();
    const rtts = await redisRtt.stop();
    load.push(loadavg()[0] ?? Number.NaN);
    log.info({ turns }, 'sequential turns done');
    await sleep(COUNT_SETTLE_MS);
    const mongo = new Map<VariantName, MongoPerTurn>();
    for (const rig of both) {
      const after = await mongoSnapshot(admin, rig);
      const start = before.get(rig.name);
      if (start) mongo.set(rig.name, mongoPerTurn(start, after, turns));
    }

    // Bursts of concurrent turns, one session each.
    const burstTurns = new Map<VariantName, BurstTurn[]>(both.map((rig) => [rig.name, []]));
    for (let b = 0; b < bursts && concurrent > 0; b += 1) {
      for (const rig of both) {
        const burstSessions = await Promise.all(Array.from({ length: concurrent }, () => session(rig)));
        const results = await burstOf(admin, rig, burstSessions, audio, attempt);
        burstTurns.get(rig.name)?.push(...results);
        const overheads = results.flatMap((r) => (r.report.firstAudioAt === null ? [] : [r.report.firstAudioAt - r.t0 - rig.path.totalMs]));
        log.info({ variant: rig.name, burst: b + 1, turns: concurrent, p50OverheadMs: fig(median(overheads), 1), p99OverheadMs: fig(percentile(overheads, 99), 1) }, 'burst done');
      }
    }

    // Cancels at points taken in turn, each turn alone in its own session, the same point and delay for both variants.
    const random = seededRandom(20_260_512);
    const cancelResults = new Map<VariantName, CancelResult[]>(both.map((rig) => [rig.name, []]));
    for (let i = 0; i < cancels; i += 1) {
      const point = CANCEL_POINTS[i % CANCEL_POINTS.length] as CancelPoint;
      const delayMs = Math.round(random() * (point === 'stt' ? 80 : point === 'llm' ? 1200 : 250));
      for (const rig of both) {
        // Without streaming the first chunk is the whole reply, and the turn ends right after it: nothing to cancel.
        if (point === 'first_audio' && rig.name === 'non_streaming') continue;
        const result = await attempt('cancelled turn', async () => cancelledTurn(admin, rig, await session(rig), audio, point, delayMs));
        if (result) cancelResults.get(rig.name)?.push(result);
      }
    }
    if (cancels > 0) log.info({ cancels }, 'cancels done');

    // Figures.
    const ttfa = (name: VariantName) => (sequential.get(name) ?? []).flatMap((t) => (t.report.firstAudioAt === null ? [] : [t.report.firstAudioAt - t.t0]));
    const failedTurns =
      errors.length + [...[...sequential.values()].flat(), ...[...burstTurns.values()].flat()].filter((t) => t.report.firstAudioAt === null || t.report.status !== 'completed').length;
    const burst = burstParts(burstTurns.get('streaming') ?? [], streamRig.path, timings);
    const burstBatch = burstParts(burstTurns.get('non_streaming') ?? [], batchRig.path, timings);
    const streamTtfa = ttfa('streaming');
    const batchTtfa = ttfa('non_streaming');
    const seg = segmentMedians(sequential.get('streaming') ?? [], streamRig.path, timings);
    const streamSegments = (sequential.get('streaming') ?? []).flatMap((t) => segmentsOf(t, streamRig.path, timings) ?? []);
    const fakeDrift = streamSegments.map((p) => p.stt_call_over_fake + p.llm_tokens_over_fake + p.tts_call_over_fake);
    const lessDrift = streamSegments.map((p) => SEGMENTS.reduce((sum, k) => sum + p[k], 0) - p.stt_call_over_fake - p.llm_tokens_over_fake - p.tts_call_over_fake);
    const segBatch = segmentMedians(sequential.get('non_streaming') ?? [], batchRig.path, timings);
    const cancelled = (name: VariantName) => (cancelResults.get(name) ?? []).filter((c) => c.cancelled);
    const streamCancels = cancelled('streaming');
    const batchCancels = cancelled('non_streaming');
    const ms = mongo.get('streaming');
    const mb = mongo.get('non_streaming');
    const figures: Figures = {
      part: 'stream',
      ttfa_ratio: fig(median(streamTtfa) / median(batchTtfa), 3),
      ttfa_overhead_ms: fig(median(streamTtfa) - streamRig.path.totalMs, 1),
      ttfa_overhead_p99_ms: fig(percentile(burst.overhead, 99), 1),
      raw_chain_ttfa_overhead_ms: fig(median(rawTtfa) - streamRig.path.totalMs, 1),
      ttfa_overhead_over_raw_chain_ms: fig(median(streamTtfa) - median(rawTtfa), 1),
      cancel_quiet_p99_ms: fig(percentile(streamCancels.map((c) => c.quietMs), 99), 1),
      work_after_cancel: streamCancels.reduce((n, c) => n + c.startsAfter, 0),
      mongo_ops_per_turn: fig(ms?.total ?? Number.NaN, 2),
      mongo_ops_per_turn_non_streaming: fig(mb?.total ?? Number.NaN, 2),
      ttfa_p50_ms: fig(median(streamTtfa), 1),
      ttfa_p99_ms: fig(percentile(streamTtfa, 99), 1),
      ttfa_p50_ms_non_streaming: fig(median(batchTtfa), 1),
      fake_first_audio_ms: fig(streamRig.path.totalMs, 1),
      fake_first_audio_ms_non_streaming: fig(batchRig.path.totalMs, 1),
      ttfa_ratio_fakes: fig(streamRig.path.totalMs / batchRig.path.totalMs, 3),
      fake_timer_drift_p50_ms: fig(median(fakeDrift), 1),
      ttfa_overhead_less_fake_drift_p50_ms: fig(median(lessDrift), 1),
      timer_lag_p50_ms: fig(median(lags), 2),
      timer_lag_p99_ms: fig(percentile(lags, 99), 2),
      redis_rtt_p50_ms: fig(median(rtts), 3),
      redis_rtt_p99_ms: fig(percentile(rtts, 99), 3),
      load_avg_1m_start: fig(load[0] ?? Number.NaN, 2),
      load_avg_1m_end: fig(load[1] ?? Number.NaN, 2),
      ttfa_overhead_ms_non_streaming: fig(median(batchTtfa) - batchRig.path.totalMs, 1),
      ttfa_overhead_p50_ms_concurrent: fig(median(burst.overhead), 1),
      ttfa_overhead_p99_ms_non_streaming: fig(percentile(burstBatch.overhead, 99), 1),
      ...Object.fromEntries(BURST_PARTS.map((k) => [`concurrent_${k}_p99_ms`, fig(percentile(burst[k], 99), 1)])),
      cancel_quiet_p50_ms: fig(median(streamCancels.map((c) => c.quietMs)), 1),
      cancel_call_p50_ms: fig(median(streamCancels.map((c) => c.callMs)), 1),
      cancel_call_p99_ms: fig(percentile(streamCancels.map((c) => c.callMs), 99), 1),
      cancel_quiet_from_call_p99_ms: fig(percentile(streamCancels.map((c) => c.quietFromCallMs), 99), 1),
      cancel_workers_quiet_from_call_p50_ms: fig(median(streamCancels.map((c) => c.workersQuietFromCallMs)), 1),
      cancel_workers_quiet_from_call_p99_ms: fig(percentile(streamCancels.map((c) => c.workersQuietFromCallMs), 99), 1),
      cancel_quiet_p99_ms_non_streaming: fig(percentile(batchCancels.map((c) => c.quietMs), 99), 1),
      work_after_cancel_non_streaming: batchCancels.reduce((n, c) => n + c.startsAfter, 0),
      events_after_cancel: [...streamCancels, ...batchCancels].reduce((n, c) => n + c.lateEvents, 0),
      cancels_count: streamCancels.length,
      cancels_count_non_streaming: batchCancels.length,
      cancels_too_late_count: [...cancelResults.values()].flat().filter((c) => !c.cancelled).length,
      mongo_ops_per_turn_producer: fig(ms?.producer ?? Number.NaN, 2),
      mongo_ops_per_turn_workers: fig(ms?.workers ?? Number.NaN, 2),
      mongo_ops_per_turn_consumer: fig(ms?.consumer ?? Number.NaN, 2),
      mongo_ops_per_turn_non_streaming_workers: fig(mb?.workers ?? Number.NaN, 2),
      ...Object.fromEntries(SEGMENTS.map((s) => [`seg_${s}_ms`, fig(seg[s], 1)])),
      turns,
      concurrent_turns: concurrent,
      bursts,
      worker_processes_per_variant: WORKERS_PER_VARIANT,
      concurrency_per_stage: concurrency,
      failed_turns_count: failedTurns,
      turn_error_first: errors[0]?.slice(0, 200) ?? null,
      ferretdb_start_ms: fig(ferretStartMs, 0),
      target_max_ttfa_ratio: TARGETS.ttfa_ratio,
      target_max_ttfa_overhead_ms: TARGETS.ttfa_overhead_ms,
      target_max_cancel_quiet_p99_ms: TARGETS.cancel_quiet_p99_ms,
      target_work_after_cancel: TARGETS.work_after_cancel,
    };
    printTables(figures, { seg, segBatch, mongo, cancels: cancelResults, burst, burstBatch });
    if (values.dump) {
      const dump = { figures, sequential: Object.fromEntries(sequential), bursts: Object.fromEntries(burstTurns), cancels: Object.fromEntries(cancelResults), mongo: Object.fromEntries(mongo) };
      await writeFile(values.dump, JSON.stringify(dump));
      log.info({ file: values.dump }, 'raw timings written');
    }
    await Promise.all(rigs.splice(0).map((rig) => rig.close()));
    await raw.close();
    raw = undefined;
    figures.duration_ms = fig(performance.now() - started, 0);
    return figures;
  } finally {
    await Promise.all(rigs.map((rig) => rig.close().catch((error: unknown) => log.warn({ variant: rig.name, err: error }, 'closing a variant failed'))));
    await raw?.close().catch((error: unknown) => log.warn({ err: error }, 'closing the raw chain failed'));
    await ferret?.stop();
    await closeRedis(admin);
  }
}

interface RigSetup {
/** Names this run's prefixes and databases. */
run: string;
redisUrl: string;
mongoUrl: string;
admin: Redis;
timings: PacedTimings;
concurrency: number;
log: Logger;
/** Each rig is added as soon as it has processes to stop. */
rigs: Rig[];
}

/** One variant: its SDK client here, two paced worker processes and a consumer process, on a prefix and database of its own. */
async function startRig(name: VariantName, { run, redisUrl, mongoUrl, admin, timings, concurrency, log, rigs }: RigSetup): Promise<Rig> {
  const streaming = name === 'streaming';
  const prefix = `vstream-${run}-${streaming ? 's' : 'n'}`;
  const dbName = `vbench_stream_${run}_${streaming ? 's' : 'n'}`;
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('VOXQ_') && !k.startsWith('PACED_'))),
    OTEL_SDK_DISABLED: 'true',
    REDIS_URL: redisUrl,
    MONGO_URL: mongoUrl,
    VOXQ_PREFIX: prefix,
    VOXQ_MONGO_DB: dbName,
    VOXQ_STREAMING: String(streaming),
    VOXQ_LOG_LEVEL: 'info',
  };
  const stores = await openMongoStores(withCommandMonitoring(mongoUrl), dbName);
  const producerCommands = new MongoCommandCounter(stores.client);
  const config = configSchema.parse({ REDIS_URL: redisUrl, MONGO_URL: mongoUrl, VOXQ_PREFIX: prefix, VOXQ_MONGO_DB: dbName, VOXQ_LOG_LEVEL: 'silent' });
  const client = await connect({ config, stores, resultTimeoutMs: TURN_TIMEOUT_MS });
  const workers = Array.from(
    { length: WORKERS_PER_VARIANT },
    (_, i) =>
      new ChildScript(WORKER_SCRIPT, {
        name: `${name}-worker-${i + 1}`,
        cwd: ROOT,
        env: { ...env, PACED_REPLY: STREAM_REPLY, PACED_TIMINGS: JSON.stringify(timings), PACED_CONCURRENCY: String(concurrency), PACED_COUNT_MONGO: '1' },
      }),
  );
  const consumer = new ConsumerProcess(new ChildScript(CONSUMER_SCRIPT, { name: `${name}-consumer`, cwd: ROOT, env }), `${name}-consumer`);
  let closing: Promise<void> | undefined;
  const rig: Rig = {
    name,
    prefix,
    client,
    stores,
    producerCommands,
    workers,
    consumer,
    path: fakePath(STREAM_REPLY, timings, streaming),
    close: () =>
      (closing ??= (async () => {
        await Promise.all([consumer.stop(), ...workers.map((w) => w.stop())]);
        await client.close();
        await stores.db.dropDatabase().catch(() => undefined);
        await stores.close();
        const keys = await deleteKeys(admin, `${prefix}:*`);
        log.info({ variant: name, keys }, 'redis keys of the variant removed');
      })()),
  };
  rigs.push(rig);
  await Promise.all([...workers.map((w) => w.waitForLog('paced worker ready', START_TIMEOUT_MS)), consumer.started(START_TIMEOUT_MS)]);
  log.info({ variant: name, prefix, workers: workers.map((w) => w.pid), concurrency }, 'variant ready');
  return rig;
}

async function timedTurn(admin: Redis, rig: Rig, sessionId: string, audio: Uint8Array): Promise<TimedTurn> {
  const from = await admin.llen(callsKey(rig.prefix));
  const t0 = Date.now();
  const turn = await rig.client.enqueueTurn({ sessionId, audio });
  const enqueuedAt = Date.now();
  const report = await rig.consumer.follow(turn.turnId, TURN_TIMEOUT_MS);
  const calls = await readCalls(admin, rig.prefix, from);
  return { turnId: turn.turnId, t0, enqueuedAt, report, calls };
}

/** A turn in each session at once; each with its job starts, told apart by job id. */
async function burstOf(
  admin: Redis,
  rig: Rig,
  sessionIds: readonly string[],
  audio: Uint8Array,
  attempt: <T>(what: string, work: () => Promise<T>) => Promise<T | undefined>,
): Promise<BurstTurn[]> {
  const from = await admin.llen(callsKey(rig.prefix));
  const settled = await Promise.all(
    sessionIds.map((sessionId) =>
      attempt('concurrent turn', async (): Promise<BurstTurn> => {
        const t0 = Date.now();
        const turn = await rig.client.enqueueTurn({ sessionId, audio });
        const enqueuedAt = Date.now();
        return { turnId: turn.turnId, t0, enqueuedAt, report: await rig.consumer.follow(turn.turnId, TURN_TIMEOUT_MS), jobs: {} };
      }),
    ),
  );
  const results = settled.filter((r): r is BurstTurn => r !== undefined);
  const byTurn = new Map(results.map((r) => [r.turnId, r]));
  for (const c of await readCalls(admin, rig.prefix, from)) {
    if (c.event !== 'job') continue;
    const dot = c.jobId.indexOf('.');
    const turn = byTurn.get(c.jobId.slice(0, dot));
    if (turn) turn.jobs[c.jobId.slice(dot + 1)] ??= c.at;
  }
  return results;
}

/** A 16 kHz mono 16-bit WAV of a 440 Hz tone: the fake STT needs audio, not speech. */
function toneWav(durationMs: number): Uint8Array {
  const rate = 16_000;
  const samples = new Int16Array(Math.round((rate * durationMs) / 1000));
  for (let i = 0; i < samples.length; i += 1) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return encodeWavPcm16(samples, rate);
}

async function readCalls(admin: Redis, prefix: string, from: number): Promise<PacedCall[]> {
  return (await admin.lrange(callsKey(prefix), from, -1)).map((line) => JSON.parse(line) as PacedCall);
}

interface MongoSnapshot {
  producer: Record<string, number>;
  workers: Record<string, number>;
  consumer: Record<string, number>;
}

interface MongoPerTurn {
  total: number;
  producer: number;
  workers: number;
  consumer: number;
  /** Every process's commands by name, per turn. */
  byCommand: Record<string, number>;
  /** Each part's commands by name, per turn. */
  byPart: Record<'producer' | 'workers' | 'consumer', Record<string, number>>;
}

async function mongoSnapshot(admin: Redis, rig: Rig): Promise<MongoSnapshot> {
  const workers = Object.fromEntries(Object.entries(await admin.hgetall(workerMongoKey(rig.prefix))).map(([name, n]) => [name, Number(n)]));
  return { producer: rig.producerCommands.snapshot(), workers, consumer: await rig.consumer.mongoCommands() };
}

function mongoPerTurn(before: MongoSnapshot, after: MongoSnapshot, turns: number): MongoPerTurn {
  const producer = commandsBetween(before.producer, after.producer);
  const workers = commandsBetween(before.workers, after.workers);
  const consumer = commandsBetween(before.consumer, after.consumer);
  const all = addCommands(producer, workers, consumer);
  const perTurn = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / turns]));
  return {
    total: workCommands(all) / turns,
    producer: workCommands(producer) / turns,
    workers: workCommands(workers) / turns,
    consumer: workCommands(consumer) / turns,
    byCommand: perTurn(all),
    byPart: { producer: perTurn(producer), workers: perTurn(workers), consumer: perTurn(consumer) },
  };
}

/** Median of each segment over the turns whose every step was seen. */
function segmentMedians(timed: readonly TimedTurn[], path: FakePath, timings: PacedTimings): Record<Segment, number> {
  const values = new Map<Segment, number[]>(SEGMENTS.map((s) => [s, []]));
  for (const turn of timed) {
    const parts = segmentsOf(turn, path, timings);
    if (parts) for (const s of SEGMENTS) values.get(s)?.push(parts[s]);
  }
  return Object.fromEntries(SEGMENTS.map((s) => [s, median(values.get(s) ?? [])])) as Record<Segment, number>;
}

/** Where one turn's time to first audio went beyond the fakes' own delays; undefined when a step is missing. */
function segmentsOf({ turnId, t0, report, calls }: TimedTurn, path: FakePath, timings: PacedTimings): Record<Segment, number> | undefined {
  const job = (stage: StageName, sentence?: number) => calls.find((c) => c.event === 'job' && c.jobId === stageJobId(turnId, stage, sentence))?.at;
  const call = (provider: ProviderCall['provider'], event: ProviderCall['event'], text?: string) =>
    calls.find((c) => c.event === event && 'provider' in c && c.provider === provider && (text === undefined || c.text === text))?.at;
  const sttJob = job('stt');
  const sttStart = call('stt', 'start');
  const sttEnd = call('stt', 'end');
  const llmJob = job('llm');
  const llmStart = call('llm', 'start');
  const handAt = report.textAts[path.handTokenIndex];
  const ttsJob = job('tts', 0);
  const ttsStart = call('tts', 'start', path.firstSentence);
  const ttsEnd = call('tts', 'end', path.firstSentence);
  const read = report.firstAudioAt;
  const steps = [sttJob, sttStart, sttEnd, llmJob, llmStart, handAt, ttsJob, ttsStart, ttsEnd, read];
  if (steps.some((s) => s === undefined || s === null)) return undefined;
  const [a, b, c, d, e, f, g, h, i, j] = steps as number[] as [number, number, number, number, number, number, number, number, number, number];
  const tokensMs = timings.firstTokenMs + path.handTokenIndex * (1000 / timings.tokensPerS);
  return {
    enqueue_to_stt_job: a - t0,
    stt_job_to_call: b - a,
    stt_call_over_fake: c - b - timings.sttMs,
    stt_to_llm_job: d - c,
    llm_job_to_call: e - d,
    llm_tokens_over_fake: f - e - tokensMs,
    hand_to_tts_job: g - f,
    tts_job_to_call: h - g,
    tts_call_over_fake: i - h - path.ttsMs,
    tts_to_consumer_read: j - i,
  };
}

/** Follows the turn's events here until the point is reached; false when the turn ended first. */
async function reach(turn: TurnHandle, point: CancelPoint): Promise<boolean> {
  for await (const event of turn.events()) {
    if (point === 'stt' && event.type === 'stage' && event.stage === 'stt' && event.status === 'running') return true;
    if (point === 'llm' && event.type === 'text') return true;
    if (point === 'first_audio' && event.type === 'sentence') return true;
    if (event.type === 'end') return false;
  }
  return false;
}

async function cancelledTurn(admin: Redis, rig: Rig, sessionId: string, audio: Uint8Array, point: CancelPoint, delayMs: number): Promise<CancelResult> {
  const from = await admin.llen(callsKey(rig.prefix));
  const turn = await rig.client.enqueueTurn({ sessionId, audio });
  await reach(turn, point);
  if (delayMs > 0) await sleep(delayMs);
  const calledAt = Date.now();
  const cancelled = await rig.client.cancelSession(sessionId);
  const returnedAt = Date.now();
  await sleep(QUIET_WINDOW_MS);
  const calls = await readCalls(admin, rig.prefix, from);
  const events: TurnEvent[] = [];
  const done = AbortSignal.timeout(5000);
  try {
    for await (const event of turn.events({ signal: done })) events.push(event);
  } catch {
    // a log with no end within the timeout: what was read is judged
  }
  let lastAt = returnedAt;
  let last = 'nothing after the return';
  let lastFromCall = calledAt;
  const seen = (at: number, what: string) => {
    lastFromCall = Math.max(lastFromCall, at);
    if (at > lastAt) {
      lastAt = at;
      last = what;
    }
  };
  for (const c of calls) seen(c.at, c.event === 'job' ? `job ${c.jobId.slice(c.jobId.indexOf('.') + 1)} start` : `${c.provider} ${c.event}`);
  let lateEvents = 0;
  for (const e of events) {
    const at = Math.max(e.at, Number(e.id.split('-')[0]) || 0);
    if (at > returnedAt) lateEvents += 1;
    seen(at, `event ${e.type}`);
  }
  const workersQuietFromCallMs = Math.max(0, ...calls.map((c) => c.at - calledAt));
  const startsAfter = calls.filter((c) => (c.event === 'start' || c.event === 'job') && c.at > returnedAt).length;
  return { point, cancelled, quietMs: lastAt - returnedAt, callMs: returnedAt - calledAt, quietFromCallMs: lastFromCall - calledAt, workersQuietFromCallMs, startsAfter, lateEvents, last };
}

interface TableData {
  burst: ReturnType<typeof burstParts>;
  burstBatch: ReturnType<typeof burstParts>;
  seg: Record<Segment, number>;
  segBatch: Record<Segment, number>;
  mongo: Map<VariantName, MongoPerTurn>;
  cancels: Map<VariantName, CancelResult[]>;
}

function printTables(figures: Figures, data: TableData): void {
  const out = (line: string) => process.stderr.write(`${line}\n`);
  const show = (v: unknown) => (typeof v === 'number' ? String(fig(v, 1)) : typeof v === 'boolean' ? String(v) : 'n/a');
  out('\nstream: time to first audio, streaming vs VOXQ_STREAMING=false (paced fakes, bundled FerretDB)');
  const targets: [string, string, (v: number) => boolean][] = [
    ['ttfa_ratio', `<= ${TARGETS.ttfa_ratio}`, (v) => v <= TARGETS.ttfa_ratio],
    ['ttfa_overhead_ms', `<= ${TARGETS.ttfa_overhead_ms}`, (v) => v <= TARGETS.ttfa_overhead_ms],
    ['cancel_quiet_p99_ms', `<= ${TARGETS.cancel_quiet_p99_ms}`, (v) => v <= TARGETS.cancel_quiet_p99_ms],
    ['work_after_cancel', `= ${TARGETS.work_after_cancel}`, (v) => v === TARGETS.work_after_cancel],
  ];
  for (const [key, target, ok] of targets) {
    const value = figures[key];
    const verdict = typeof value === 'number' ? (ok(value) ? 'meets' : 'MISSES') : 'n/a';
    out(`  ${key.padEnd(36)} ${show(value).padStart(10)}   target ${target.padEnd(6)} ${verdict}`);
  }
  for (const key of [
    'ttfa_overhead_p99_ms',
    'mongo_ops_per_turn',
    'mongo_ops_per_turn_non_streaming',
    'ttfa_p50_ms',
    'ttfa_p50_ms_non_streaming',
    'fake_first_audio_ms',
    'fake_first_audio_ms_non_streaming',
    'ttfa_ratio_fakes',
    'fake_timer_drift_p50_ms',
    'ttfa_overhead_less_fake_drift_p50_ms',
    'timer_lag_p50_ms',
    'timer_lag_p99_ms',
    'redis_rtt_p50_ms',
    'redis_rtt_p99_ms',
    'load_avg_1m_start',
    'load_avg_1m_end',
    'ttfa_overhead_ms_non_streaming',
    'ttfa_overhead_p50_ms_concurrent',
    'ttfa_overhead_p99_ms_non_streaming',
    'cancel_quiet_p50_ms',
    'cancel_call_p50_ms',
    'cancel_call_p99_ms',
    'cancel_quiet_from_call_p99_ms',
    'cancel_workers_quiet_from_call_p50_ms',
    'cancel_workers_quiet_from_call_p99_ms',
    'cancel_quiet_p99_ms_non_streaming',
    'work_after_cancel_non_streaming',
    'events_after_cancel',
    'cancels_too_late_count',
    'failed_turns_count',
  ]) {
    out(`  ${key.padEnd(36)} ${show(figures[key]).padStart(10)}`);
  }
  out('\nwhere the overhead over the fakes goes, sequential turns (p50 ms: streaming | non-streaming)');
  let sum = 0;
  let sumBatch = 0;
  for (const s of SEGMENTS) {
    sum += data.seg[s];
    sumBatch += data.segBatch[s];
    out(`  ${s.padEnd(36)} ${show(data.seg[s]).padStart(10)} | ${show(data.segBatch[s]).padStart(10)}`);
  }
  out(`  ${'(sum of the p50s)'.padEnd(36)} ${show(sum).padStart(10)} | ${show(sumBatch).padStart(10)}`);
  out(`\n${String(figures.concurrent_turns)} turns at once: time to first audio over the fakes, split (ms: p50 / p99, streaming | non-streaming)`);
  for (const key of ['overhead', ...BURST_PARTS] as const) {
    const both = (values: number[]) => `${show(median(values))} / ${show(percentile(values, 99))}`;
    out(`  ${key.padEnd(36)} ${both(data.burst[key]).padStart(16)} | ${both(data.burstBatch[key]).padStart(16)}`);
  }
  out('\nMongoDB commands per turn (sequential turns; producer + workers + consumer)');
  out(`  ${'process command'.padEnd(36)} ${'streaming'.padStart(10)} | ${'non-str.'.padStart(10)}`);
  for (const part of ['producer', 'workers', 'consumer'] as const) {
    const names = [...new Set([...data.mongo.values()].flatMap((m) => Object.keys(m.byPart[part])))].sort();
    for (const name of names) {
      out(`  ${`${part} ${name}`.padEnd(36)} ${show(data.mongo.get('streaming')?.byPart[part][name] ?? 0).padStart(10)} | ${show(data.mongo.get('non_streaming')?.byPart[part][name] ?? 0).padStart(10)}`);
    }
  }
  for (const part of ['producer', 'workers', 'consumer', 'total'] as const) {
    out(`  ${`(${part})`.padEnd(36)} ${show(data.mongo.get('streaming')?.[part]).padStart(10)} | ${show(data.mongo.get('non_streaming')?.[part]).padStart(10)}`);
  }
  out('\ncancels (quiet ms after cancelSession returned; starts after it; what was last)');
  for (const [name, results] of data.cancels) {
    for (const point of CANCEL_POINTS) {
      const at = results.filter((r) => r.point === point);
      if (at.length === 0) continue;
      const hit = at.filter((r) => r.cancelled);
      const worst = hit.reduce<CancelResult | undefined>((w, r) => (w === undefined || r.quietMs > w.quietMs ? r : w), undefined);
      out(
        `  ${`${name} ${point}`.padEnd(36)} cancelled ${hit.length}/${at.length}  quiet max ${show(worst?.quietMs)} (${worst?.last ?? '-'})  starts after ${hit.reduce((n, r) => n + r.startsAfter, 0)}`,
      );
    }
  }
  out('');
}
