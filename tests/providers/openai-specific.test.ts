// What only the OpenAI-compatible providers promise: the wire carries what the server expects,
// each role can have its own server, a local server needs no key, refusals map to the right
// ProviderError, and the speech format announced is what ffprobe sees, for wav, mp3 and opus.
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OpenAIError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import { createLlmProvider, createSttProvider, createTtsProvider } from '../../src/shared/providers/create-providers.js';
import { OpenAiLlmProvider } from '../../src/shared/providers/openai-llm.js';
import { classifyOpenAiError } from '../../src/shared/providers/openai-errors.js';
import { OpenAiSttProvider } from '../../src/shared/providers/openai-stt.js';
import { OpenAiTtsProvider, parseVoiceMap, type OpenAiSpeechFormat } from '../../src/shared/providers/openai-tts.js';
import { isProviderError } from '../../src/shared/providers/provider-error.js';
import { startGroqStandin, type GroqStandin, type StandinRequest } from '../support/groq-standin.js';
import { collect, rejection } from '../support/provider-calls.js';
import { makeWav } from '../support/wav.js';

let standin: GroqStandin;
beforeAll(async () => {
  standin = await startGroqStandin();
});
afterAll(async () => {
  await standin.close();
});

const server = () => ({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, timeoutMs: 5000 });
const wav = () => ({ bytes: makeWav({ durationMs: 1500 }), mimeType: 'audio/wav' });
const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };
/** What `make` threw (undefined when it returned). */
function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}
const last = (s: GroqStandin, suffix: string): StandinRequest | undefined => s.requests.filter((r) => r.path.endsWith(suffix)).at(-1);

describe('OpenAiLlmProvider', () => {
  it('sends model, messages, temperature and max_tokens to a local server; streams usage via include_usage', async () => {
    const llm = new OpenAiLlmProvider({ ...server(), model: 'gpt-4o' });
    expect(llm.info()).toMatchObject({ provider: 'openai', model: 'gpt-4o', acceptsAudio: false });
    const usage: unknown[] = [];
    const text = (await collect(llm.stream('Oi', { systemPrompt: 'sistema', temperature: 0.2, maxTokens: 40, onUsage: (u) => usage.push(u) }))).join('');
    expect(text).toBe('Resposta 0: Oi');
    expect(last(standin, '/chat/completions')).toMatchObject({
      path: '/v1/chat/completions',
      flavor: 'openai',
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'sistema' }, { role: 'user', content: 'Oi' }],
      temperature: 0.2,
      maxCompletionTokens: 40,
      maxTokensField: 'max_tokens',
      stream: true,
      includeUsage: true,
    });
    expect(usage).toEqual([{ inputTokens: 2, outputTokens: 3 }]);
  });

  it('uses max_completion_tokens when told (OpenAI itself)', async () => {
    await new OpenAiLlmProvider({ ...server(), maxTokensField: 'max_completion_tokens' }).generate('Oi', { maxTokens: 10 });
    expect(last(standin, '/chat/completions')?.maxTokensField).toBe('max_completion_tokens');
  });

  it('takes no audio', async () => {
    const llm = new OpenAiLlmProvider(server());
    expect((await rejection(llm.generate('', { audio: wav() }))).kind).toBe('unsupported');
    expect((await rejection(llm.transcribe(wav(), { language: 'pt-BR' }))).kind).toBe('unsupported');
  });

  it('turns an error inside the stream into a retryable server error', async () => {
    standin.failNext({ streamError: true });
    const error = await rejection(collect(new OpenAiLlmProvider(server()).stream('Oi')));
    expect(error).toMatchObject({ kind: 'server', retryable: true });
  });
});

describe('OpenAiSttProvider', () => {
  it('sends language pt, verbose_json and segment timestamps', async () => {
    const audio = wav();
    standin.setTranscript(audio.bytes, 'Bom dia. Tudo certo?');
    const result = await new OpenAiSttProvider(server()).transcribe(audio, { language: 'pt-BR' });
    expect(last(standin, '/audio/transcriptions')).toMatchObject({
      path: '/v1/audio/transcriptions',
      model: 'whisper-1',
      language: 'pt',
      responseFormat: 'verbose_json',
      timestampGranularities: ['segment'],
      fileName: 'audio.wav',
    });
    expect(result.segments.map((s) => s.text)).toEqual(['Bom dia.', 'Tudo certo?']);
    expect(result).toMatchObject({ text: 'Bom dia. Tudo certo?', language: 'pt', durationMs: 1500 });
  });

  it('asks a text-only model for json and gives one segment over the whole audio', async () => {
    const audio = wav();
    standin.setTranscript(audio.bytes, 'Bom dia. Tudo certo?');
    const result = await new OpenAiSttProvider({ ...server(), model: 'gpt-4o-mini-transcribe' }).transcribe(audio, { language: 'pt-BR' });
    expect(last(standin, '/audio/transcriptions')).toMatchObject({ responseFormat: 'json', language: 'pt' });
    expect(result.segments).toEqual([{ startMs: 0, endMs: 1500, text: 'Bom dia. Tudo certo?' }]);
  });
});

describe('OpenAiTtsProvider', () => {
  it('sends model, voice (Kokoro names unchanged), speed and response_format wav; fixes the streamed WAV header', async () => {
    const tts = new OpenAiTtsProvider(server());
    const audio = await tts.synthesize('Bom dia.', { ...PT_BR, speed: 1.25 });
    expect(last(standin, '/audio/speech')).toMatchObject({ model: 'tts-1', input: 'Bom dia.', voice: 'pf_dora', speed: 1.25, responseFormat: 'wav' });
    const view = new DataView(audio.bytes.buffer, audio.bytes.byteOffset, audio.bytes.byteLength);
    expect(view.getUint32(4, true)).toBe(audio.bytes.byteLength - 8);
    expect(readWavInfo(audio.bytes)).toMatchObject({ sampleRateHz: 24_000, dataBytes: audio.bytes.byteLength - 44 });
  });

  it('maps voices through the voice map and clamps speed to the API range', async () => {
    expect(parseVoiceMap('pf_dora:nova, pm_alex:onyx')).toEqual({ pf_dora: 'nova', pm_alex: 'onyx' });
    const tts = new OpenAiTtsProvider({ ...server(), model: 'kokoro', voiceMap: parseVoiceMap('pf_dora:nova') });
    await tts.synthesize('Oi.', { ...PT_BR, speed: 9 });
    expect(last(standin, '/audio/speech')).toMatchObject({ model: 'kokoro', voice: 'nova', speed: 4 });
  });

  for (const format of ['wav', 'mp3', 'opus'] as const satisfies readonly OpenAiSpeechFormat[]) {
    it(`announces ${format} as ffprobe sees it`, async () => {
      const tts = new OpenAiTtsProvider({ ...server(), format });
      const audio = await tts.synthesize('Olá! Como posso ajudar você hoje?', PT_BR);
      expect(last(standin, '/audio/speech')?.responseFormat).toBe(format);
      const { durationMs, ...probed } = await probeAudio(audio.bytes, { trustWavHeader: false });
      expect(probed).toEqual(tts.audioFormat());
      expect(audio.format).toEqual(tts.audioFormat());
      expect(Math.abs(durationMs - audio.durationMs)).toBeLessThanOrEqual(audio.durationMs * 0.05);
    });
  }
});

describe('errors', () => {
  it('classifies the openai package errors by class and status', () => {
    const rate = new RateLimitError(429, { error: { message: 'x' } }, 'x', new Headers({ 'retry-after': '4' }));
    expect(classifyOpenAiError(rate, 'openai')).toMatchObject({ kind: 'rate_limited', retryAfterMs: 4000, retryable: true, status: 429 });
    const server502 = new InternalServerError(502, undefined, 'bad gateway', new Headers());
    expect(classifyOpenAiError(server502, 'openai')).toMatchObject({ kind: 'server', status: 502, retryable: true });
    expect(classifyOpenAiError(new AuthenticationError(401, undefined, 'no', new Headers()), 'openai')).toMatchObject({ kind: 'auth' });
    expect(classifyOpenAiError(new PermissionDeniedError(403, undefined, 'no', new Headers()), 'openai')).toMatchObject({ kind: 'auth' });
    expect(classifyOpenAiError(new BadRequestError(400, undefined, 'bad', new Headers()), 'openai')).toMatchObject({
      kind: 'bad_request',
      retryable: false,
    });
    expect(classifyOpenAiError(new APIConnectionTimeoutError(), 'openai')).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyOpenAiError(new APIConnectionError({ message: 'refused' }), 'openai')).toMatchObject({ kind: 'connection' });
    expect(classifyOpenAiError(new APIUserAbortError(), 'openai')).toMatchObject({ kind: 'aborted', retryable: false });
    expect(classifyOpenAiError(new OpenAIError('bad argument'), 'openai')).toMatchObject({ kind: 'bad_request' });
    expect(classifyOpenAiError(new Error('boom'), 'openai', AbortSignal.abort())).toMatchObject({ kind: 'aborted' });
  });

  it('reads retry-after (seconds, retry-after-ms) from a 429 on every role', async () => {
    standin.failNext({ status: 429, retryAfterS: 3 });
    expect(await rejection(new OpenAiLlmProvider(server()).generate('Oi'))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
    standin.failNext({ status: 429, retryAfterS: 3, retryAfterMs: 1500 });
    expect((await rejection(new OpenAiSttProvider(server()).transcribe(wav(), { language: 'pt-BR' }))).retryAfterMs).toBe(1500);
    standin.failNext({ status: 429, retryAfterS: 2 });
    expect(await rejection(new OpenAiTtsProvider(server()).synthesize('Oi.', PT_BR))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2000 });
    standin.failNext({ status: 503 });
    expect(await rejection(new OpenAiTtsProvider(server()).synthesize('Oi.', PT_BR))).toMatchObject({ kind: 'server', retryable: true });
  });

  it('a wrong key → auth and unavailable; an unknown model → bad_request and unavailable; a bad voice → bad_request', async () => {
    const wrongKey = new OpenAiLlmProvider({ ...server(), apiKey: 'sk-wrong' });
    expect(await rejection(wrongKey.generate('Oi'))).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect(await wrongKey.isAvailable()).toBe(false);
    const unknown = new OpenAiSttProvider({ ...server(), model: 'whisper-tiny' });
    expect(await rejection(unknown.transcribe(wav(), { language: 'pt-BR' }))).toMatchObject({ kind: 'bad_request', status: 404 });
    expect(await unknown.isAvailable()).toBe(false);
    expect(await new OpenAiTtsProvider(server()).isAvailable()).toBe(true);
    const error = await rejection(new OpenAiTtsProvider(server()).synthesize('Oi.', { ...PT_BR, voice: '' }));
    expect(error).toMatchObject({ kind: 'bad_request', status: 400 });
  });

  it('a server without a model list counts as available once it answers', async () => {
    standin.failNext({ status: 404, endpoint: 'models' });
    expect(await new OpenAiLlmProvider(server()).isAvailable()).toBe(true);
  });

  it('a hang is a timeout; an unreachable server a connection error', async () => {
    standin.failNext({ hangMs: 60_000 });
    const slow = new OpenAiTtsProvider({ ...server(), timeoutMs: 300 });
    expect(await rejection(slow.synthesize('Oi.', PT_BR))).toMatchObject({ kind: 'timeout', retryable: true });
    const closed = await startGroqStandin();
    await closed.close();
    const gone = new OpenAiSttProvider({ baseURL: closed.openaiUrl, timeoutMs: 2000 });
    expect(await rejection(gone.transcribe(wav(), { language: 'pt-BR' }))).toMatchObject({ kind: 'connection', retryable: true });
  });
});

describe('configuration', () => {
  it('sends each role to its own server, falling back to OPENAI_BASE_URL', async () => {
    const [sttBox, ttsBox] = await Promise.all([startGroqStandin(), startGroqStandin()]);
    try {
      const config = loadConfig({
        VOXQ_STT: 'openai',
        VOXQ_LLM: 'openai',
        VOXQ_TTS: 'openai',
        OPENAI_API_KEY: standin.apiKey,
        OPENAI_BASE_URL: standin.openaiUrl,
        VOXQ_OPENAI_STT_BASE_URL: sttBox.openaiUrl,
        VOXQ_OPENAI_TTS_BASE_URL: ttsBox.openaiUrl,
        VOXQ_OPENAI_TTS_MODEL: 'kokoro',
        VOXQ_OPENAI_TTS_FORMAT: 'mp3',
      });
      expect(config).toMatchObject({ VOXQ_OPENAI_LLM_MODEL: 'gpt-4o-mini', VOXQ_OPENAI_STT_MODEL: 'whisper-1' });
      await createSttProvider(config).transcribe(wav(), { language: 'pt-BR' });
      await createTtsProvider(config).synthesize('Oi.', PT_BR);
      await createLlmProvider(config).generate('Oi');
      expect(sttBox.requests.map((r) => r.path)).toEqual(['/v1/audio/transcriptions']);
      expect(ttsBox.requests.map((r) => [r.path, r.model, r.responseFormat])).toEqual([['/v1/audio/speech', 'kokoro', 'mp3']]);
      expect(last(standin, '/chat/completions')?.model).toBe('gpt-4o-mini');
    } finally {
      await Promise.all([sttBox.close(), ttsBox.close()]);
    }
  });

  it('needs no key for a local server, and sends no Authorization header then', async () => {
    const local = await startGroqStandin({ keyless: true });
    try {
      const llm = createLlmProvider(loadConfig({ VOXQ_LLM: 'openai', OPENAI_BASE_URL: local.openaiUrl }));
      expect((await llm.generate('Oi')).text).toBe('Resposta 0: Oi');
      expect(local.requests.at(-1)).toMatchObject({ hasAuthorization: false, authorized: false, status: 200 });
    } finally {
      await local.close();
    }
  });

  it("refuses OpenAI's own API without a key, naming the variables", () => {
    for (const env of [{ VOXQ_STT: 'openai' }, { VOXQ_STT: 'openai', VOXQ_OPENAI_STT_BASE_URL: 'https://api.openai.com/v1' }]) {
      const error = thrown(() => createSttProvider(loadConfig(env)));
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toMatch(/VOXQ_STT=openai needs OPENAI_API_KEY.*VOXQ_OPENAI_STT_BASE_URL/);
    }
    for (const make of [() => new OpenAiLlmProvider({}), () => new OpenAiSttProvider({}), () => new OpenAiTtsProvider({})]) {
      const error = thrown(make);
      expect(isProviderError(error) && error.kind).toBe('auth');
    }
  });

  it('rejects a malformed voice map and an unknown format, naming the variable', () => {
    expect(() => loadConfig({ VOXQ_OPENAI_TTS_VOICE_MAP: 'pf_dora' })).toThrow(/VOXQ_OPENAI_TTS_VOICE_MAP/);
    expect(() => loadConfig({ VOXQ_OPENAI_TTS_FORMAT: 'flac' })).toThrow(/VOXQ_OPENAI_TTS_FORMAT/);
  });
});
