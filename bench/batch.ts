// The batch part: (1) rate-limit utilisation — a folder of short pt-BR recordings through
// `transcribeFolder` and the STT workers against the Groq stand-in enforcing a request limit
// scaled up for the bench (240/min), of which batch work may use the limit minus the live
// reserve (VOXQ_STT_LIVE_RESERVE, 20 %: 192/min). The window lets a window's worth of calls go at
// once, then one more each time a call leaves the window, so the rate is read past the first
// window's worth: batch share × 60 s ÷ the mean time between call i and call i − share (60 s,
// plus voxq's 1 s margin, when the share is used in full), and the 429s the stand-in had to
// send. The workers start once every file is queued, so the figure is the window's, not the
// preparation's (measured next); (2) preparation speed on a speech-dense
// recording (≥ 10 minutes of continuous espeak-ng speech), one process, onnxruntime intra-op
// threads 1: decode + resample + VAD + chunking against a Silero-only pass over the same
// decoded audio, in the same run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Queue } from 'bullmq';
import { configSchema } from '../src/shared/config.js';
import { sttLimitsFrom } from '../src/shared/rate-limit/stt-limits.js';
import { cutChunks, decodeWithVad, prepareAudio } from '../src/shared/audio/prepare-audio.js';
import { SileroVad } from '../src/shared/audio/silero-vad.js';
import { fixWavHeader } from '../src/shared/audio/wav.js';
import { createLogger } from '../src/shared/logger.js';
import { createRedis, closeRedis } from '../src/shared/redis.js';
import { createMemoryStores } from '../src/shared/store/mongo-stores.js';
import { BatchRunner } from '../src/producers/batch/batch-runner.js';
import { startWorkerProcess } from '../src/workers/worker-process.js';
import { STANDIN_API_KEY, startGroqStandin } from '../tests/support/groq-standin.js';
import { benchLogger } from './support/log.js';
import { deleteKeys } from './support/redis-space.js';
import { fig, median } from './support/stats.js';

const run = promisify(execFile);

export const BATCH_HELP = `batch: batch transcription — rate-limit utilisation against the stand-in, and preparation speed

  npm run bench -- batch [options]

  --rpm N              the stand-in's request limit per minute, and voxq's (default 240; batch work
                       gets it minus VOXQ_STT_LIVE_RESERVE, default 20 %)
  --seconds N          how long the batch share should be kept busy past its first window's worth
                       (default 75; files = share × (1 + seconds / 60))
  --speech-minutes N   length of the speech-dense recording for preparation (default 10)
  --rounds N           preparation rounds (default 3; medians reported)
  --quick              a smoke test: 30 s, 2 minutes of speech, one round (not figures)

Figures: one JSON line on stdout (rate_limit_utilization against the batch share, provider_429s,
prep_x_realtime, prep_vs_vad_ratio …); logs on stderr. Targets: rate_limit_utilization >= 0.9,
provider_429s = 0, prep_vs_vad_ratio <= 1.25.`;

const PROVIDER_WINDOW_MS = 60_000;
const SENTENCES = [
  'Hoje vamos falar sobre a previsão do tempo para a semana inteira em todas as capitais do país.',
  'A reunião de planejamento começa às nove horas e deve terminar antes do almoço, com a presença de toda a equipe.',
  'Por favor, envie o relatório financeiro até sexta-feira à tarde, porque a diretoria precisa revisar os números.',
  'O trânsito na avenida principal está lento por causa das obras, então saia de casa um pouco mais cedo amanhã.',
  'Nesta palestra vamos discutir como a tecnologia mudou a forma de trabalhar, estudar e conversar com as pessoas.',
];

export async function runBatch(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rpm: { type: 'string', default: '240' },
      seconds: { type: 'string' },
      'speech-minutes': { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const rpm = Number(values.rpm);
  const seconds = Number(values.seconds ?? (quick ? 30 : 75));
  const speechMinutes = Number(values['speech-minutes'] ?? (quick ? 2 : 10));
  const rounds = Number(values.rounds ?? (quick ? 1 : 3));
  const log = benchLogger('voxq-bench-batch');
  const dir = await mkdtemp(join(tmpdir(), 'voxq-bench-batch-'));
  try {
    const rate = await rateLimitRun(dir, rpm, seconds, log);
    const prep = await prepRun(dir, speechMinutes, rounds, log);
    const figures = { part: 'batch', ...rate, ...prep, quick };
    log.info({ targets: { rate_limit_utilization: 0.9, provider_429s: 0, prep_vs_vad_ratio: 1.25 } }, 'batch bench done');
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function espeakWav(text: string): Promise<Uint8Array> {
  const { stdout } = await run('espeak-ng', ['-v', 'pt-br+f3', '--stdout', text], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return fixWavHeader(new Uint8Array(stdout));
}

async function rateLimitRun(dir: string, rpm: number, seconds: number, log: ReturnType<typeof benchLogger>): Promise<Record<string, unknown>> {
  const prefix = `vbb${randomBytes(4).toString('hex')}`;
  const standin = await startGroqStandin({ requestsPerMinute: rpm });
  const config = configSchema.parse({
    ...process.env,
    VOXQ_PREFIX: prefix,
    VOXQ_STT: 'groq',
    GROQ_API_KEY: STANDIN_API_KEY,
    GROQ_BASE_URL: standin.url,
    VOXQ_STT_REQUESTS_PER_MINUTE: String(rpm),
    VOXQ_STT_AUDIO_SECONDS_PER_HOUR: '100000000',
    VOXQ_LOG_LEVEL: 'warn',
  });
  const limits = sttLimitsFrom(config);
  const share = limits.requestsPerMinute - limits.liveReserveRequests;
  const files = Math.ceil(share * (1 + seconds / 60));
  const input = join(dir, 'curtas');
  await mkdir(input, { recursive: true });
  const base = await espeakWav(SENTENCES[0] ?? '');
  // Distinct content (one sample changed), so every file is its own transcription.
  for (let i = 0; i < files; i += 1) {
    const copy = base.slice();
    copy.set([i & 0xff, (i >> 8) & 0xff], 100);
    await mkdir(join(input, `pasta ${i % 7}`), { recursive: true });
    await writeFile(join(input, `pasta ${i % 7}`, `gravação ${i}.wav`), copy);
  }
  const times: number[] = [];
  standin.events.on('request', () => times.push(Date.now()));
  const stores = createMemoryStores();
  const quiet = createLogger('voxq-bench-worker', 'warn');
  const worker = startWorkerProcess({ config, stages: ['stt'], concurrency: 8, stores: { ...stores, close: () => Promise.resolve() }, log: quiet, autorun: false });
  const out = join(dir, 'saida');
  let running: Promise<void>[] = [];
  let startedAt = Date.now();
  try {
    log.info({ files, rpm, batchShare: share }, 'rate-limit run: preparing and queueing');
    if (!stores.batches) throw new Error('no batch store');
    const done = new BatchRunner({ redisUrl: config.REDIS_URL, prefix, records: stores.batches, audio: stores.audio, attempts: 4, log: quiet }).run({
      input,
      out,
      formats: ['txt'],
      language: 'pt-BR',
      model: config.VOXQ_STT_MODEL,
    });
    done.catch(() => undefined); // awaited below; a failure while queueing ends the wait there
    await Promise.race([allQueued(config.REDIS_URL, prefix, files), done]);
    log.info({ files }, 'rate-limit run: every file queued, workers start');
    startedAt = Date.now();
    running = worker.workers.map((w) => w.run());
    const summary = await done;
    const { perMinute, busiestWindow } = sustainedRate(times, share);
    log.info({ requests: times.length, failed: summary.failures.length, perMinute: fig(perMinute) }, 'rate-limit run done');
    return {
      rpm_limit: rpm,
      rpm_batch_share: share,
      files,
      files_failed: summary.failures.length,
      requests: times.length,
      requests_per_minute: fig(perMinute, 1),
      rate_limit_utilization: fig(perMinute / share, 3),
      max_requests_any_60s: busiestWindow,
      provider_429s: standin.rateLimited,
      batch_wall_s: fig((Date.now() - startedAt) / 1000, 1),
    };
  } finally {
    await worker.close();
    await Promise.allSettled(running);
    await standin.close();
    const redis = createRedis(config.REDIS_URL, 'producer');
    await deleteKeys(redis, `${prefix}:*`);
    await closeRedis(redis);
  }
}

/** Resolves once the stt queue holds `count` jobs waiting (batch chunks wait at their priority). */
async function allQueued(redisUrl: string, prefix: string, count: number): Promise<void> {
  const redis = createRedis(redisUrl, 'producer');
  const queue = new Queue('stt', { connection: redis, prefix });
  try {
    for (;;) {
      const counts = await queue.getJobCounts('prioritized', 'wait');
      if ((counts.prioritized ?? 0) + (counts.wait ?? 0) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await queue.close();
    await closeRedis(redis);
  }
}

/**
 * Requests per minute sustained past the first window's worth: with at most `share` calls in any
 * window, call i can start no sooner than a window after call i − share, so the rate is `share`
 * per mean gap between them. Also the most calls any 60 s held (the provider's view).
 */
function sustainedRate(times: readonly number[], share: number): { perMinute: number; busiestWindow: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let gaps = 0;
  for (let i = share; i < sorted.length; i += 1) gaps += (sorted[i] ?? 0) - (sorted[i - share] ?? 0);
  const counted = sorted.length - share;
  const perMinute = counted > 0 && gaps > 0 ? (share * PROVIDER_WINDOW_MS) / (gaps / counted) : Number.NaN;
  let busiestWindow = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while ((sorted[j] ?? 0) <= (sorted[i] ?? 0) - PROVIDER_WINDOW_MS) j += 1;
    busiestWindow = Math.max(busiestWindow, i - j + 1);
  }
  return { perMinute, busiestWindow };
}

async function prepRun(dir: string, minutes: number, rounds: number, log: ReturnType<typeof benchLogger>): Promise<Record<string, unknown>> {
  // Continuous speech: sentences back to back, as many as it takes.
  const words = Math.ceil(minutes * 60 * 2.9);
  const text: string[] = [];
  for (let i = 0, n = 0; n < words; i += 1) {
    const sentence = SENTENCES[i % SENTENCES.length] ?? '';
    text.push(sentence);
    n += sentence.split(' ').length;
  }
  const textFile = join(dir, 'texto.txt');
  await writeFile(textFile, text.join(' '));
  const wav = join(dir, 'fala contínua.wav');
  await run('espeak-ng', ['-v', 'pt-br+f3', '-f', textFile, '-w', wav], { maxBuffer: 1 << 20 });
  await writeFile(wav, fixWavHeader(new Uint8Array(await readFile(wav))));
  const vad = await SileroVad.load({ intraOpThreads: 1 });
  try {
    await vad.probabilities(new Float32Array(16_000 * 5)); // warm-up
    const prepMs: number[] = [];
    const vadMs: number[] = [];
    let audioS = 0;
    let chunks = 0;
    let speechS = 0;
    for (let r = 0; r < rounds; r += 1) {
      let t = performance.now();
      const prepared = await prepareAudio(wav, { vad, expectedDurationMs: audioS > 0 ? audioS * 1000 : undefined });
      prepMs.push(performance.now() - t);
      audioS = prepared.durationMs / 1000;
      speechS = prepared.speechMs / 1000;
      chunks = prepared.chunks.length;
      const { samples } = await decodeWithVad(wav, undefined);
      t = performance.now();
      const probs = await vad.probabilities(samples);
      vadMs.push(performance.now() - t);
      cutChunks(samples, probs, {}); // same result as prepareAudio's; not timed
      log.info({ round: r, prepMs: Math.round(prepMs[r] ?? 0), vadMs: Math.round(vadMs[r] ?? 0), audioS }, 'preparation round');
    }
    const prep = median(prepMs);
    const vadOnly = median(vadMs);
    return {
      prep_audio_s: fig(audioS, 1),
      prep_speech_s: fig(speechS, 1),
      prep_chunks: chunks,
      prep_ms: fig(prep, 0),
      vad_only_ms: fig(vadOnly, 0),
      prep_x_realtime: fig(audioS / (prep / 1000), 1),
      vad_x_realtime: fig(audioS / (vadOnly / 1000), 1),
      prep_vs_vad_ratio: fig(prep / vadOnly, 3),
    };
  } finally {
    await vad.close();
  }
}
