// The console part: the voice console in headless Chromium, hands-free (the page's Silero VAD),
// in front of the API and workers with fakes of fixed delays. A microphone the benchmark speaks
// into (tests/support/fake-microphone.ts) says one pt-BR utterance per turn; each utterance after
// the first lands while the previous reply plays, so it is also a barge-in. The page's own log
// (window.voxqConsole.log, performance.now() times) gives both figures.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { startApiProcess, type ApiProcess } from '../src/producers/http/api-process.js';
import { configSchema } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';
import { FakeLlmProvider } from '../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../src/shared/providers/fake-tts.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { startBundledFerretDb, type BundledFerretDb } from '../src/shared/store/bundled-ferretdb.js';
import { openMongoStores, type MongoStores } from '../src/shared/store/mongo-stores.js';
import { startWorkerProcess, type WorkerProcess } from '../src/workers/worker-process.js';
import { FAKE_MICROPHONE_SCRIPT, type FakeMic } from '../tests/support/fake-microphone.js';
import { speakPtBr } from '../tests/support/speech.js';
import { benchLogger } from './support/log.js';
import { deleteKeys } from './support/redis-space.js';
import { fig, median, percentile } from './support/stats.js';

export const CONSOLE_HELP = `console: the voice console, hands-free, in headless Chromium: end of speech to first audio, barge-in stop

  npm run bench -- console [options]

  --turns N      utterances, one turn each; every one after the first interrupts the reply playing (default 12)

Fakes: STT 100 ms; LLM 150 ms to its whole reply (4 sentences); TTS 120 ms a sentence, 60 ms of
audio a character (each reply plays for seconds, so the next utterance lands on it). Database:
MONGO_URL, or the bundled FerretDB. Chromium: VOXQ_CHROMIUM (default /usr/bin/chromium).
  speech_end_to_audio_ms   the VAD's speech end → the reply's first sample scheduled to play (p50, p99)
  barge_in_stop_ms         the VAD firing on speech over a reply (300 ms of it) → playback stopped (p50, p99)
  audio_output_latency_ms  what the page's AudioContext reports it adds after both (base + output latency)
Figures: one JSON line on stdout. Target (printed, not asserted): barge_in_stop_ms p50 < 100.`;

const REPLY = ['Claro, posso ajudar com isso agora mesmo.', 'O frete chega em dois dias úteis.', 'A entrega é feita pelos Correios.', 'Quer que eu confirme o pedido?'].join(' ');
const TURN_TIMEOUT_MS = 30_000;

interface LogEntry {
  kind: string;
  at: number;
  ms?: number;
  reason?: string;
  outputLatencyMs?: number;
}

export async function runConsole(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args: [...argv], options: { turns: { type: 'string', default: '12' } } });
  const turns = Math.max(2, Number(values.turns));
  const log = benchLogger('voxq-bench-console');
  const chromiumPath = process.env.VOXQ_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set VOXQ_CHROMIUM)`);

  let ferret: BundledFerretDb | undefined;
  let stores: MongoStores | undefined;
  let api: ApiProcess | undefined;
  let worker: WorkerProcess | undefined;
  let browser: Browser | undefined;
  const prefix = `vbc${randomBytes(4).toString('hex')}`;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'producer', 'voxq-bench-console');
  try {
    let mongoUrl = process.env.MONGO_URL;
    if (!mongoUrl) {
      log.info('MONGO_URL is not set: starting the bundled FerretDB');
      ferret = await startBundledFerretDb({ log });
      mongoUrl = ferret.uri;
    }
    const config = configSchema.parse({
      ...process.env,
      MONGO_URL: mongoUrl,
      VOXQ_MONGO_DB: `vconsole_${Date.now().toString(36)}`,
      VOXQ_PREFIX: prefix,
      VOXQ_STT: 'fake',
      VOXQ_LLM: 'fake',
      VOXQ_TTS: 'fake',
      VOXQ_LOG_LEVEL: 'warn',
    });
    stores = await openMongoStores(mongoUrl, config.VOXQ_MONGO_DB);
    api = await startApiProcess({ config, port: 0, host: '127.0.0.1', log: createLogger('voxq-bench-api', 'warn') });
    worker = startWorkerProcess({
      config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 4,
      stores: { ...stores, close: () => Promise.resolve() },
      providers: {
        stt: new FakeSttProvider({ latencyMs: 100 }),
        llm: new FakeLlmProvider({ latencyMs: 150, replies: () => REPLY }),
        tts: new FakeTtsProvider({ latencyMs: 120, msPerChar: 60 }),
      },
      log: createLogger('voxq-bench-worker', 'warn'),
    });
    const { key } = await api.keys.create({ scopes: ['turns:read', 'turns:write'], name: 'bench-console' });
    const utterance = Buffer.from(await speakPtBr('Quero saber quando chega o meu pedido.')).toString('base64');

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
    const context = await browser.newContext();
    await context.addInitScript(FAKE_MICROPHONE_SCRIPT);
    const page = await context.newPage();
    await page.goto(`${api.url}/console`);
    await page.fill('#key', key);
    await Promise.all([page.waitForURL(/\/console$/), page.click('button[type=submit]')]);
    await page.waitForSelector('body[data-state="idle"]');
    await page.check('#hands-free');
    // Functions, not strings: the page's Content-Security-Policy refuses eval.
    const count = (kind: string) => page.evaluate((k) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === k).length, kind);
    const countAbove = (kind: string, n: number) =>
      page.waitForFunction(([k, m]) => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log.filter((e) => e.kind === k).length > m, [kind, n] as const, { timeout: TURN_TIMEOUT_MS });
    await countAbove('vad-ready', 0);
    log.info({ turns }, 'console: speaking');
    for (let i = 0; i < turns; i += 1) {
      const before = await count('speech-to-audio');
      await page.evaluate((b64) => (globalThis as unknown as { fakeMic: FakeMic }).fakeMic.say(b64), utterance);
      await countAbove('speech-to-audio', before);
    }
    const entries = await page.evaluate(() => (globalThis as unknown as { voxqConsole: { log: LogEntry[] } }).voxqConsole.log);
    const speechToAudio = entries.filter((e) => e.kind === 'speech-to-audio').map((e) => e.ms ?? Number.NaN);
    const stops: number[] = [];
    let onsetAt: number | undefined;
    let outputLatencyMs = Number.NaN;
    for (const entry of entries) {
      if (entry.kind === 'vad-speech-start') onsetAt = entry.at;
      if (entry.kind === 'stopped' && entry.reason === 'speech' && onsetAt !== undefined) {
        stops.push(entry.at - onsetAt);
        outputLatencyMs = entry.outputLatencyMs ?? Number.NaN;
        onsetAt = undefined;
      }
    }
    await context.close();
    const figures = {
      part: 'console',
      turns,
      barge_ins: stops.length,
      speech_end_to_audio_ms_p50: fig(median(speechToAudio), 1),
      speech_end_to_audio_ms_p99: fig(percentile(speechToAudio, 99), 1),
      barge_in_stop_ms_p50: fig(median(stops), 2),
      barge_in_stop_ms_p99: fig(percentile(stops, 99), 2),
      audio_output_latency_ms: fig(outputLatencyMs, 1),
    };
    log.info({ ...figures, target: 'barge_in_stop_ms_p50 < 100' }, 'console: done');
    return figures;
  } finally {
    await browser?.close();
    await worker?.close();
    await api?.close();
    await stores?.db.dropDatabase().catch(() => undefined);
    await stores?.close();
    await deleteKeys(redis, `${prefix}:*`).catch(() => 0);
    await closeRedis(redis);
    await ferret?.stop();
  }
}
