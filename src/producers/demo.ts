// `voxq demo`: one real turn end to end on this machine. Workers run in this process, the SDK
// sends a sample pt-BR recording, and the transcription, reply, timings and reply audio are
// printed. MongoDB comes from MONGO_URL, or the bundled FerretDB when Go is installed; without
// GROQ_API_KEY the STT and LLM stages use the fakes, and the demo says so.
import { readFile, writeFile } from 'node:fs/promises';
import { loadConfig, type Config } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { SAMPLE_AUDIO_PATH } from '../shared/package-root.js';
import { createProviders, defaultTtsName } from '../shared/providers/create-providers.js';
import { EspeakNgTtsProvider } from '../shared/providers/espeak-tts.js';
import { everyTenPercent } from '../shared/providers/kokoro/load-progress-log.js';
import { FakeSttProvider } from '../shared/providers/fake-stt.js';
import { startBundledFerretDb } from '../shared/store/bundled-ferretdb.js';
import { openMongoStores } from '../shared/store/mongo-stores.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { openWorkerProcess } from '../workers/worker-process.js';
import { formatTurnResult } from './print-result.js';
import { connect } from './sdk/connect.js';

export interface DemoOptions {
  audio?: string;
  out: string;
  timeoutMs: number;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** What the bundled sample says: the fake STT answers with it, so an offline demo reads true. */
const SAMPLE_TRANSCRIPT = 'Olá! Qual é a previsão do tempo para amanhã em São Paulo?';

/** Download progress on stdout: each file every 10 %. */
const sayLoadProgress = () =>
  everyTenPercent(({ file, percent, totalBytes }) => {
    const size = totalBytes < 1_048_576 ? `${Math.ceil(totalBytes / 1024)} KB` : `${(totalBytes / 1_048_576).toFixed(1)} MB`;
    say(`  ${file}: ${percent}% of ${size}`);
  });

async function chooseProviders(config: Config): Promise<Config> {
  const next = { ...config };
  if (!config.GROQ_API_KEY && (config.VOXQ_STT === 'groq' || config.VOXQ_LLM === 'groq')) {
    say('GROQ_API_KEY is not set: this demo uses the FAKE speech-to-text and LLM (scripted replies, no network).');
    say('Set GROQ_API_KEY to hear a real model answer.');
    if (config.VOXQ_STT === 'groq') next.VOXQ_STT = 'fake';
    if (config.VOXQ_LLM === 'groq') next.VOXQ_LLM = 'fake';
  }
  next.VOXQ_TTS ??= defaultTtsName(next);
  if (next.VOXQ_TTS === 'espeak' && !(await new EspeakNgTtsProvider().isAvailable())) {
    say('espeak-ng is not installed: the reply audio is a FAKE tone (apt-get install espeak-ng for real speech).');
    next.VOXQ_TTS = 'fake';
  }
  say(`providers: stt=${next.VOXQ_STT} llm=${next.VOXQ_LLM} tts=${next.VOXQ_TTS}`);
  return next;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const log = createLogger('voxq-demo');
  let config = loadConfig();
  let stopDatabase: (() => Promise<void>) | undefined;
  if (!config.MONGO_URL) {
    say('MONGO_URL is not set: starting the bundled test database (FerretDB, needs Go)…');
    const db = await startBundledFerretDb({ log });
    stopDatabase = () => db.stop();
    config = { ...config, MONGO_URL: db.uri };
  }
  config = await chooseProviders(config);
  const mongoUrl = config.MONGO_URL ?? '';
  const tracing = startTracing('voxq-demo');
  const providers = createProviders(config, ['stt', 'llm', 'tts'], { onModelProgress: sayLoadProgress() });
  if (providers.tts?.load) {
    say(`loading the TTS model ${providers.tts.info().model} (the first run downloads it)…`);
    await providers.tts.load();
  }
  const workers = await openWorkerProcess({
    config,
    stages: ['stt', 'llm', 'tts'],
    concurrency: 2,
    stores: await openMongoStores(mongoUrl, config.VOXQ_MONGO_DB),
    providers: {
      ...providers,
      ...(config.VOXQ_STT === 'fake' && !options.audio ? { stt: new FakeSttProvider({ transcripts: () => SAMPLE_TRANSCRIPT }) } : {}),
    },
    tracing,
    log,
  });
  const client = await connect({ config, resultTimeoutMs: options.timeoutMs, tracing });
  try {
    const audioPath = options.audio ?? SAMPLE_AUDIO_PATH();
    const audio = await readFile(audioPath);
    const session = await client.createSession('demo-user', { source: 'voxq demo' });
    say(`\nturn 1: sending ${audioPath} (${audio.byteLength} bytes)`);
    const first = await (await client.enqueueTurn({ sessionId: session.sessionId, audio })).result();
    say(formatTurnResult(first));
    await writeFile(options.out, first.replyAudio.bytes);
    say(`saved:      ${options.out}`);

    say('\nturn 2: a text follow-up in the same session (the LLM sees turn 1)');
    const second = await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'E no fim de semana?' })).result();
    say(formatTurnResult(second));

    const stats = await client.statistics(session.sessionId);
    say(`\nMongoDB holds session ${session.sessionId} with ${stats.messageCount} messages.`);
  } finally {
    await client.close();
    await workers.close();
    await stopDatabase?.();
  }
}
