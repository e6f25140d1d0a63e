// Injected parts are checked where they are injected: startWorkerProcess, connect() and the API
// refuse a part that is not its port at start, with a message naming the part, the port and the
// method; info() is checked against the port's schema; a stream() that answers something other
// than an async iterable fails its call, naming the part. The guards check shapes, not names only.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/shared/config.js';
import { isLlmProvider, type GenerateOptions, type LlmProvider } from '../../src/shared/ports/llm-provider.js';
import { isSttProvider } from '../../src/shared/ports/stt-provider.js';
import { isTtsProvider } from '../../src/shared/ports/tts-provider.js';
import { isMetrics } from '../../src/shared/ports/metrics.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { GroqLlmProvider } from '../../src/shared/providers/groq-llm.js';
import { GroqSttProvider } from '../../src/shared/providers/groq-stt.js';
import { OpenAiLlmProvider } from '../../src/shared/providers/openai-llm.js';
import { OpenAiSttProvider } from '../../src/shared/providers/openai-stt.js';
import { OpenAiTtsProvider } from '../../src/shared/providers/openai-tts.js';
import { SpeechNativeLlmProvider } from '../../src/shared/providers/speech-native-llm.js';
import { EspeakNgTtsProvider } from '../../src/shared/providers/espeak-tts.js';
import { KokoroTtsProvider } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import { createMemoryStores } from '../../src/shared/store/mongo-stores.js';
import { MemoryApiKeyStore } from '../../src/shared/store/memory-api-key-store.js';
import { PrometheusMetrics } from '../../src/shared/telemetry/prometheus-metrics.js';
import { OtelMetrics } from '../../src/shared/telemetry/otel-metrics.js';
import { startWorkerProcess, type WorkerProcessOptions } from '../../src/workers/worker-process.js';
import { connect } from '../../src/producers/sdk/connect.js';
import { startApiProcess } from '../../src/producers/http/api-process.js';
import { buildApiServer, type ApiServerDeps } from '../../src/producers/http/api-server.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { startTranscribeFolder } from '../../src/producers/batch/transcribe-folder.js';
import { quietLogger, RecordingMetrics, startPipeline, testConfig, type Pipeline } from '../support/pipeline.js';

/** Every method of the port, but the given ones removed or replaced. */
function llmWith(changes: Record<string, unknown>): unknown {
  const fake = new FakeLlmProvider();
  const part: Record<string, unknown> = {
    info: () => fake.info(),
    isAvailable: () => fake.isAvailable(),
    generate: (prompt: string, options?: GenerateOptions) => fake.generate(prompt, options),
    stream: (prompt: string, options?: GenerateOptions) => fake.stream(prompt, options),
    supportsTranscription: () => false,
    transcribe: () => Promise.reject(new Error('unsupported')),
  };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete part[key];
    else part[key] = value;
  }
  return part;
}

/** An object with these methods, each doing nothing. */
function methods(names: readonly string[]): Record<string, () => undefined> {
  return Object.fromEntries(names.map((name) => [name, () => undefined]));
}

function workerOptions(overrides: Partial<Record<keyof WorkerProcessOptions, unknown>>): WorkerProcessOptions {
  return {
    config: testConfig('vt-never-used', undefined),
    stages: ['stt', 'llm', 'tts'],
    concurrency: 1,
    stores: createMemoryStores(),
    providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider(), tts: new FakeTtsProvider() },
    log: quietLogger(),
    autorun: false,
    ...overrides,
  } as WorkerProcessOptions;
}

function refusal(start: () => unknown): ConfigError {
  try {
    start();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_part');
    return error as ConfigError;
  }
  throw new Error('expected the start to be refused');
}

describe('the type guards check shapes', () => {
  it('accepts every production provider and fake', () => {
    const openAi = { apiKey: 'sk-unused', baseURL: 'http://127.0.0.1:9/v1' };
    for (const llm of [new GroqLlmProvider({ apiKey: 'gsk_unused' }), new OpenAiLlmProvider(openAi), new SpeechNativeLlmProvider({ ...openAi, model: 'ultravox' }), new FakeLlmProvider()]) {
      expect(isLlmProvider(llm), llm.constructor.name).toBe(true);
    }
    for (const stt of [new GroqSttProvider({ apiKey: 'gsk_unused' }), new OpenAiSttProvider(openAi), new FakeSttProvider()]) {
      expect(isSttProvider(stt), stt.constructor.name).toBe(true);
    }
    const kokoro = new KokoroTtsProvider({ model: { model: 'onnx-community/Kokoro-82M-v1.0-ONNX', cacheDir: '/nonexistent', dtype: 'q8' }, device: 'cpu' });
    for (const tts of [new EspeakNgTtsProvider(), new OpenAiTtsProvider(openAi), kokoro, new FakeTtsProvider()]) {
      expect(isTtsProvider(tts), tts.constructor.name).toBe(true);
    }
    for (const metrics of [new OtelMetrics(), new PrometheusMetrics('voxq-test'), new RecordingMetrics()]) expect(isMetrics(metrics)).toBe(true);
  });

  it('refuses the right method names with the wrong shapes', () => {
    expect(isLlmProvider(llmWith({}))).toBe(true);
    expect(isLlmProvider(llmWith({ stream: undefined }))).toBe(false);
    expect(isLlmProvider(llmWith({ info: () => 42 }))).toBe(false);
    expect(isLlmProvider(llmWith({ info: () => ({ provider: 'x', model: '' , supportsStreaming: true, acceptsAudio: false }) }))).toBe(false);
    expect(isLlmProvider(llmWith({ info: () => { throw new Error('no info'); } }))).toBe(false);
    expect(isLlmProvider(llmWith({ supportsTranscription: () => 'yes' }))).toBe(false);
    expect(isLlmProvider(llmWith({ generate: 'not a function' }))).toBe(false);
    const tts = new FakeTtsProvider();
    const ttsWith = (changes: Record<string, unknown>) => ({
      info: () => tts.info(),
      isAvailable: () => tts.isAvailable(),
      synthesize: () => Promise.reject(new Error('unused')),
      audioFormat: () => tts.audioFormat(),
      ...changes,
    });
    expect(isTtsProvider(ttsWith({}))).toBe(true);
    expect(isTtsProvider(ttsWith({ audioFormat: () => ({ container: 'wav', codec: 'pcm_s16le', sampleRateHz: 0, channels: 1, mimeType: 'audio/wav' }) }))).toBe(false);
    expect(isTtsProvider(ttsWith({ load: 'eager' }))).toBe(false);
    expect(isSttProvider({ info: () => ({ provider: 'x' }), isAvailable: () => Promise.resolve(true), transcribe: () => Promise.resolve() })).toBe(false);
  });
});

describe('startWorkerProcess checks what is injected', () => {
  it('refuses a part that lacks a method, naming the part, the port and the method', () => {
    expect(refusal(() => startWorkerProcess(workerOptions({ providers: { stt: new FakeSttProvider(), llm: llmWith({ stream: undefined }), tts: new FakeTtsProvider() } }))).message).toBe(
      'llm: LlmProvider is missing stream()',
    );
    const noTranscribe = { info: () => ({ provider: 'x', model: 'y' }), isAvailable: () => Promise.resolve(true) };
    expect(refusal(() => startWorkerProcess(workerOptions({ providers: { stt: noTranscribe, llm: new FakeLlmProvider(), tts: new FakeTtsProvider() } }))).message).toBe(
      'stt: SttProvider is missing transcribe()',
    );
    const stores = createMemoryStores();
    const sessionsLess = methods(['createSession', 'getSession', 'addInteraction', 'inactiveSince', 'deleteSession']);
    expect(refusal(() => startWorkerProcess(workerOptions({ stores: { ...stores, sessions: sessionsLess } }))).message).toBe('stores.sessions: SessionManager is missing context()');
    expect(refusal(() => startWorkerProcess(workerOptions({ metrics: { increment() {}, gauge() {}, histogram() {} } }))).message).toBe('metrics: Metrics is missing timing()');
  });

  it('checks info() against the port’s schema', () => {
    const error = refusal(() =>
      startWorkerProcess(workerOptions({ providers: { stt: new FakeSttProvider(), llm: llmWith({ info: () => ({ provider: 'mine' }) }), tts: new FakeTtsProvider() } })),
    );
    expect(error.message).toMatch(/^llm: LlmProvider\.info\(\) does not answer what the port says \(model: .*supportsStreaming: .*\)$/);
  });

  it('refuses a stage it runs without a provider for it', () => {
    expect(refusal(() => startWorkerProcess(workerOptions({ providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider() } }))).message).toMatch(
      /^tts: no TtsProvider injected for the tts stage/,
    );
  });
});

describe('connect() and the API check what is injected', () => {
  it('connect() refuses stores and metrics that are not their ports', async () => {
    const config = testConfig('vt-never-used', undefined);
    const stores = createMemoryStores();
    const conversations = methods(['saveMessage', 'history', 'statistics', 'deleteSession']);
    await expect(connect({ config, stores: { ...stores, conversations } as never })).rejects.toThrow('stores.conversations: ConversationStore is missing cutMessage()');
    await expect(connect({ config, stores, metrics: { increment() {} } as never })).rejects.toThrow('metrics: Metrics is missing gauge(), timing(), histogram()');
  });

  it('startApiProcess and buildApiServer refuse parts that are not their ports', async () => {
    const config = testConfig('vt-never-used', undefined);
    await expect(startApiProcess({ config, metrics: new OtelMetrics() as never })).rejects.toThrow('metrics: PrometheusMetrics is missing scrape(), shutdown()');
    const keys = new MemoryApiKeyStore();
    const keysLess = methods(['create', 'get', 'revoke', 'list']);
    const deps = { keys: keysLess, readiness: { services: {} }, metrics: new PrometheusMetrics('voxq-test') } as unknown as ApiServerDeps;
    await expect(buildApiServer(deps)).rejects.toThrow('keys: ApiKeyStore is missing verify()');
    await expect(buildApiServer({ ...deps, keys })).rejects.toThrow('readiness.services: ServiceClient is missing call(), health(), close()');
  });
});

describe('startTranscribeFolder checks what is injected', () => {
  it('refuses a record store that lacks a method', () => {
    const stores = createMemoryStores();
    const deps = { redisUrl: 'redis://127.0.0.1:6379', prefix: 'vt-never-used', records: methods(['save', 'get', 'count']), audio: stores.audio, attempts: 1, log: quietLogger() };
    const options = { input: '/nonexistent', out: '/nonexistent', formats: ['txt' as const], language: 'pt-BR' };
    expect(refusal(() => startTranscribeFolder(deps as never, options as never)).message).toBe('records: BatchRecordStore is missing getMany()');
  });
});

describe('a stream() that answers no async iterable', () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('fails the turn at its first call, naming the part, and is not retried', async () => {
    const fake = new FakeLlmProvider();
    let streamCalls = 0;
    // An `async stream()` (a Promise of an iterable) has every method the port names: only the call shows it.
    const promising = llmWith({
      stream: (prompt: string, options?: GenerateOptions) => {
        streamCalls += 1;
        return Promise.resolve(fake.stream(prompt, options));
      },
    }) as LlmProvider;
    pipeline = await startPipeline({ store: 'memory', providers: { llm: promising } });
    const session = await pipeline.client.createSession('u');
    const error = await (await pipeline.client.enqueueTurn({ sessionId: session.sessionId, text: 'oi' })).result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TurnFailedError);
    expect(error).toMatchObject({ stage: 'llm', code: 'invalid_part' });
    expect((error as Error).message).toContain('llm: LlmProvider.stream() answered a Promise, not an async iterable');
    expect(streamCalls).toBe(1);
  });
});
