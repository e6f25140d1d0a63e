// End to end across processes, as users run it: `voxq worker` processes, the SDK (here and
// through `voxq turn`), the real groq-sdk against the Groq stand-in, espeak-ng speech, the test
// database, and an OTLP receiver collecting every process's spans.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { configSchema } from '../../src/shared/config.js';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { startGroqStandin, type GroqStandin } from '../support/groq-standin.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { otlpProcessEnv, spanTree, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { speakPtBr } from '../support/speech.js';
import { spawnVoxq, voxqStateEnv, type VoxqProcess } from '../support/voxq-process.js';

const SENTENCE = 'Olá, qual é a previsão do tempo para amanhã?';

let groq: GroqStandin;
let otlp: OtlpReceiver;
let env: Record<string, string>;
let dir: string;
let dbName: string;
let prefix: string;
const processes: VoxqProcess[] = [];

function startWorker(extra: Record<string, string> = {}): VoxqProcess {
  const worker = spawnVoxq(['worker', '--stages', 'stt,llm,tts', '--concurrency', '2'], { ...env, ...extra });
  processes.push(worker);
  return worker;
}

beforeAll(async () => {
  groq = await startGroqStandin();
  otlp = await startOtlpReceiver();
  dir = await mkdtemp(join(tmpdir(), 'voxq-e2e-'));
  dbName = uniqueDbName('e2e');
  prefix = `ve${randomBytes(4).toString('hex')}`;
  env = {
    ...voxqStateEnv(prefix, dbName),
    VOXQ_STT: 'groq',
    VOXQ_LLM: 'groq',
    VOXQ_TTS: 'espeak',
    GROQ_API_KEY: groq.apiKey,
    GROQ_BASE_URL: groq.url,
    VOXQ_LOCK_DURATION_MS: '2000',
    VOXQ_LOG_LEVEL: 'info',
    ...otlpProcessEnv(otlp.url),
  };
});

// A failed test must not leave its workers taking the next test's jobs.
afterEach(() => stopProcesses(processes));

afterAll(async () => {
  await stopProcesses(processes);
  await dropTestState({ prefix, dbName });
  await groq.close();
  await otlp.close();
  await rm(dir, { recursive: true, force: true });
});

describe('voxq across processes', () => {
  it('turns pt-BR speech into a transcription, a reply and a playable WAV, stored and traced as one trace', async () => {
    const audio = await speakPtBr(SENTENCE);
    groq.setTranscript(audio, SENTENCE);
    const audioPath = join(dir, 'pergunta.wav');
    await writeFile(audioPath, audio);
    const worker = startWorker();
    await worker.waitForLog('workers started');

    const outPath = join(dir, 'resposta.wav');
    const cli = spawnVoxq(['turn', '--audio', audioPath, '--user', 'ana', '--out', outPath], env);
    processes.push(cli);
    expect(await cli.exited).toBe(0);
    const out = cli.stdout();
    expect(out).toContain(`you said:   ${SENTENCE}`);
    expect(out).toContain(`reply:      Resposta 0: ${SENTENCE}`);
    expect(out).toMatch(/timing: +stt \d+ ms wait \+ \d+ ms work · llm .* · tts .* · total \d+ ms/);

    const reply = await probeAudio(await readFile(outPath), { trustWavHeader: false });
    expect(reply).toMatchObject({ container: 'wav', channels: 1 });
    expect(reply.durationMs).toBeGreaterThan(1000);

    // The real groq-sdk calls reached the stand-in: Whisper with `pt`, chat with the system prompt.
    const stt = groq.requests.find((r) => r.path.endsWith('/audio/transcriptions'));
    expect(stt).toMatchObject({ model: 'whisper-large-v3-turbo', language: 'pt', status: 200 });
    const chat = groq.requests.find((r) => r.path.endsWith('/chat/completions'));
    expect(chat?.messages?.[0]?.role).toBe('system');
    expect(chat?.messages?.at(-1)).toEqual({ role: 'user', content: SENTENCE });

    // MongoDB: the session, the turn with each stage's output and timing, two messages.
    const turnId = /turn: +(turn_[0-9a-f-]+)/.exec(out)?.[1] ?? '';
    const stores = await openMongoStores(testMongoUrl(), dbName);
    try {
      const turn = await stores.turns.get(turnId);
      expect(turn?.status).toBe('completed');
      expect(turn?.stages.stt?.output.text).toBe(SENTENCE);
      expect(turn?.stages.stt?.output.segments.length).toBeGreaterThan(0);
      expect(turn?.stages.tts?.output.provider).toBe('espeak-ng');
      expect(turn?.stages.llm?.timing.workMs).toBeGreaterThanOrEqual(0);
      // Token counts from the streamed reply's usage.
      expect(turn?.stages.llm?.output.outputTokens).toBeGreaterThan(0);
      expect(turn?.stages.llm?.output.inputTokens).toBeGreaterThan(0);
      const session = await stores.sessions.getSession(turn?.sessionId ?? '');
      expect(session?.userId).toBe('ana');
      const stats = await stores.conversations.statistics(turn?.sessionId ?? '');
      expect(stats).toMatchObject({ messageCount: 2, userMessageCount: 1, assistantMessageCount: 1 });
    } finally {
      await stores.close();
    }

    // One trace: the CLI's enqueue and the worker's three stages, parent-child across processes.
    const stageOf = (name: string) => otlp.spans.find((s) => s.name === `process ${name}` && s.attributes['voxq.turn.id'] === turnId);
    await otlp.waitFor(() => ['stt', 'llm', 'tts'].every((s) => stageOf(s)), 20_000);
    const sttSpan = stageOf('stt');
    const tree = spanTree(otlp.spans, sttSpan?.traceId ?? '');
    const services = new Set(tree.spans.map((s) => s.serviceName));
    expect(services).toEqual(new Set(['voxq-cli', 'voxq-worker']));
    for (const stage of ['stt', 'llm', 'tts']) {
      const span = stageOf(stage);
      expect(span?.traceId, tree.render()).toBe(sttSpan?.traceId);
    }
    expect(tree.isDescendant(stageOf('tts')!, stageOf('llm')!)).toBe(true);
    expect(tree.isDescendant(stageOf('llm')!, stageOf('stt')!)).toBe(true);
    const chatSpan = tree.spans.find((s) => s.name === 'llm.chat');
    expect(tree.parent(chatSpan!)?.name).toBe('process llm');
    expect(chatSpan?.attributes['gen_ai.request.model']).toBe('openai/gpt-oss-20b');
    expect(chatSpan?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(tree.spans.some((s) => s.name === 'stt.transcribe')).toBe(true);
    expect(tree.spans.some((s) => s.name === 'tts.synthesize')).toBe(true);
    expect(stageOf('tts')?.events.map((e) => e.name)).toContain('voxq.live.sentence_delivered');
    // Never audio or message text in span attributes.
    expect(JSON.stringify(tree.spans.map((s) => s.attributes))).not.toContain(SENTENCE);

    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  describe('with an SDK client in this process', () => {
    let client: VoxqClient;
    beforeAll(async () => {
      client = await connect({ config: configSchema.parse({ ...env, VOXQ_LOG_LEVEL: 'silent' }), resultTimeoutMs: 60_000 });
    });
    afterAll(() => client.close());

    it('survives a worker SIGKILLed mid-stage: another worker picks the turn up and finishes it once', async () => {
      const first = startWorker();
      await first.waitForLog('workers started');
      const session = await client.createSession('bruno');
      // The next chat call hangs: the worker is inside the LLM stage when it dies.
      groq.failNext({ hangMs: 60_000, endpoint: 'chat' });
      const arrived = new Promise((resolve) => groq.events.once('request', resolve));
      const handle = await client.enqueueTurn({ sessionId: session.sessionId, text: 'Você ainda está aí?' });
      await arrived;
      first.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');

      const second = startWorker();
      const result = await handle.result();
      expect(result.replyText).toBe('Resposta 0: Você ainda está aí?');
      expect(result.timing.llm?.attempts).toBeGreaterThanOrEqual(1);
      expect((await client.statistics(session.sessionId)).messageCount).toBe(2);
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });

    it('hands the active job back on SIGTERM at once; another worker finishes it, and the third turn sees the first two', async () => {
      const worker = startWorker();
      await worker.waitForLog('workers started');
      const session = await client.createSession('carla');
      await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'um' })).result();
      await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'dois' })).result();
      groq.failNext({ hangMs: 30_000, endpoint: 'chat' });
      const arrived = new Promise((resolve) => groq.events.once('request', resolve));
      const third = await client.enqueueTurn({ sessionId: session.sessionId, text: 'três' });
      await arrived;
      worker.kill('SIGTERM');
      // The worker does not wait out a hanging LLM call (30 s): it aborts it, hands the job back and exits
      // (the hand-back itself is asserted in tests/pipeline/outages.test.ts).
      expect(await worker.exited).toBe(0);
      const next = startWorker();
      const result = await third.result();
      expect(result.replyText).toMatch(/^Resposta \d+: três$/);
      expect((await client.history(session.sessionId)).filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['um', 'dois', 'três']);
      next.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    });

    it('refuses to start a Groq worker without GROQ_API_KEY, naming the variable', async () => {
      const worker = spawnVoxq(['worker'], { ...env, GROQ_API_KEY: '' });
      processes.push(worker);
      expect(await worker.exited).toBe(2);
      expect(worker.stderr()).toContain('GROQ_API_KEY');
    });
  });
});
