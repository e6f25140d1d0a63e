// What only the Groq providers promise: reasoning stays out of answers, the wire carries what
// Groq expects, Groq's refusals map to the right ProviderError, limits are enforced locally.
import { once } from 'node:events';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  Groq,
  InternalServerError,
  RateLimitError,
  toFile,
} from 'groq-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLlmProvider, type ChatMessage, type LlmProvider } from '../../src/shared/ports/llm-provider.js';
import { isSttProvider, type SttProvider } from '../../src/shared/ports/stt-provider.js';
import { classifyGroqError, retryAfterFromHeaders } from '../../src/shared/providers/groq-errors.js';
import { GroqLlmProvider } from '../../src/shared/providers/groq-llm.js';
import { GroqSttProvider } from '../../src/shared/providers/groq-stt.js';
import { ThinkTagFilter } from '../../src/shared/providers/think-tag-filter.js';
import { STANDIN_REASONING, startGroqStandin, type GroqStandin } from '../support/groq-standin.js';
import { makeWav } from '../support/wav.js';
import { rejection, collect } from '../support/provider-calls.js';

function without(object: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
}

let standin: GroqStandin;
beforeAll(async () => {
  standin = await startGroqStandin();
});
afterEach(() => {
  standin.options.thinkTagsInContent = undefined;
  standin.options.chunkChars = undefined;
  standin.options.reply = undefined;
});
afterAll(async () => {
  await standin.close();
});

const llm = (model = 'openai/gpt-oss-20b', apiKey = standin.apiKey) =>
  new GroqLlmProvider({ apiKey, baseURL: standin.url, model, reasoningEffort: 'low', timeoutMs: 2000 });
const stt = (model = 'whisper-large-v3-turbo', apiKey = standin.apiKey) =>
  new GroqSttProvider({ apiKey, baseURL: standin.url, model, timeoutMs: 2000 });
const wav = () => ({ bytes: makeWav({ durationMs: 1500 }), mimeType: 'audio/wav' });
const chatRequests = () => standin.requests.filter((r) => r.path === '/openai/v1/chat/completions');
const sttRequests = () => standin.requests.filter((r) => r.path === '/openai/v1/audio/transcriptions');

describe('GroqLlmProvider: reasoning never leaks', () => {
  it('asks Groq to hide reasoning at low effort', async () => {
    await llm().generate('Oi');
    const request = chatRequests().at(-1);
    expect(request?.reasoningFormat).toBe('hidden');
    expect(request?.reasoningEffort).toBe('low');
  });

  it('drops the reasoning field and <think> text from generate', async () => {
    standin.options.thinkTagsInContent = true;
    const result = await llm().generate('Que horas são?');
    expect(result.text).toBe('Resposta 0: Que horas são?');
    expect(result.text).not.toContain('RACIOCINIO');
    expect(result.text).not.toContain('think>');
  });

  it('drops them from a stream, whatever the cut points of the tags', async () => {
    standin.options.thinkTagsInContent = true;
    for (const chunkChars of [1, 2, 3, 5, 7]) {
      standin.options.chunkChars = chunkChars;
      const pieces = await collect(llm().stream('Que horas são?'));
      const text = pieces.join('');
      expect(text).toBe('Resposta 0: Que horas são?');
      for (const piece of pieces) expect(piece).not.toMatch(/RACIOCINIO|<|>/);
    }
  });

  it('filters <think> the same way whole or in pieces', () => {
    const raw = `  <think>${STANDIN_REASONING}</think>\n\nOlá! <thin é texto. <think>mais</think>Fim`;
    const whole = new ThinkTagFilter();
    const expected = whole.push(raw) + whole.flush();
    expect(expected).toBe('Olá! <thin é texto. Fim');
    for (let size = 1; size <= 9; size += 1) {
      const filter = new ThinkTagFilter();
      let out = '';
      for (let i = 0; i < raw.length; i += size) out += filter.push(raw.slice(i, i + size));
      expect(out + filter.flush()).toBe(expected);
    }
  });
});

describe('GroqLlmProvider: what reaches Groq', () => {
  it('sends system prompt, history in order, then the prompt, with only role and content', async () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'primeira' },
      { role: 'assistant', content: 'segunda' },
      { role: 'user', content: 'terceira' },
      { role: 'assistant', content: 'quarta' },
    ];
    const withExtra = history.map((m) => ({ ...m, reasoning: 'não envie' }));
    const result = await llm().generate('quinta', { systemPrompt: 'sistema', history: withExtra, temperature: 0.7, maxTokens: 50 });
    expect(result.text).toBe('Resposta 4: quinta');
    const request = chatRequests().at(-1);
    expect(request?.messages).toEqual([{ role: 'system', content: 'sistema' }, ...history, { role: 'user', content: 'quinta' }]);
    expect(request?.temperature).toBe(0.7);
    expect(request?.maxCompletionTokens).toBe(50);
    expect(result.usage?.inputTokens).toBeGreaterThan(0);
    expect(result.model).toBe('openai/gpt-oss-20b');
  });

  it('rejects an unknown model as not retryable', async () => {
    const error = await rejection(llm('llama-3.3-70b-versatile').generate('Oi'));
    expect(error).toMatchObject({ kind: 'bad_request', status: 404, retryable: false });
    expect(await llm('llama-3.3-70b-versatile').isAvailable()).toBe(false);
  });

  it('rejects a wrong key as auth, and is then unavailable', async () => {
    const error = await rejection(llm('openai/gpt-oss-20b', 'gsk_wrong').generate('Oi'));
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect(await llm('openai/gpt-oss-20b', 'gsk_wrong').isAvailable()).toBe(false);
  });

  it('turns an error inside the stream into a retryable server error', async () => {
    standin.failNext({ streamError: true });
    const pieces: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const piece of llm().stream('Oi')) pieces.push(piece);
      })(),
    );
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect(pieces.length).toBeGreaterThan(0);
  });

  it('aborts a call still waiting for its answer, and the server sees the client leave', async () => {
    standin.failNext({ hangMs: 60_000 });
    const controller = new AbortController();
    const arrived = once(standin.events, 'request');
    const gone = once(standin.events, 'client-gone');
    const call = rejection(llm().generate('Oi', { signal: controller.signal }));
    await arrived;
    controller.abort();
    expect((await call).kind).toBe('aborted');
    await gone;
  });

  it('reports an unreachable server as a retryable connection error', async () => {
    const closed = await startGroqStandin();
    await closed.close();
    const provider = new GroqLlmProvider({ apiKey: closed.apiKey, baseURL: closed.url, timeoutMs: 2000 });
    const error = await rejection(provider.generate('Oi'));
    expect(error).toMatchObject({ kind: 'connection', retryable: true });
  });

  it('does not transcribe', async () => {
    const provider = llm();
    expect(provider.supportsTranscription()).toBe(false);
    expect((await rejection(provider.transcribe(wav(), { language: 'pt-BR' }))).kind).toBe('unsupported');
  });
});

describe('GroqSttProvider', () => {
  it('sends ISO 639-1, verbose_json and segment timestamps; maps segments to ms with confidence', async () => {
    const audio = wav();
    standin.setTranscript(audio.bytes, 'Bom dia. Tudo certo?');
    const result = await stt().transcribe(audio, { language: 'pt-BR' });
    const request = sttRequests().at(-1);
    expect(request).toMatchObject({
      model: 'whisper-large-v3-turbo',
      language: 'pt',
      responseFormat: 'verbose_json',
      timestampGranularities: ['segment'],
      fileName: 'audio.wav',
      fileBytes: audio.bytes.byteLength,
    });
    expect(result.text).toBe('Bom dia. Tudo certo?');
    expect(result.language).toBe('pt');
    expect(result.durationMs).toBe(1500);
    expect(result.segments.map((s) => s.text)).toEqual(['Bom dia.', 'Tudo certo?']);
    expect(result.segments[0]).toMatchObject({ startMs: 0, confidence: Math.exp(-0.1) });
    expect(result.segments[1]?.endMs).toBe(1500);
  });

  it('rejects audio over 25 MB locally, without a request', async () => {
    const before = standin.requests.length;
    const big = { bytes: new Uint8Array(26 * 1024 * 1024), mimeType: 'audio/wav' };
    const error = await rejection(stt().transcribe(big, { language: 'pt-BR' }));
    expect(error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(error.message).toContain('25 MB');
    expect(standin.requests.length).toBe(before);
  });

  it('rejects empty audio and a tag without an ISO 639-1 code locally', async () => {
    const before = standin.requests.length;
    expect((await rejection(stt().transcribe({ bytes: new Uint8Array(0), mimeType: 'audio/wav' }, { language: 'pt-BR' }))).kind).toBe(
      'bad_request',
    );
    expect((await rejection(stt().transcribe(wav(), { language: 'português' }))).kind).toBe('bad_request');
    expect(standin.requests.length).toBe(before);
  });

  it('rejects an unknown model as not retryable', async () => {
    const error = await rejection(stt('whisper-tiny').transcribe(wav(), { language: 'pt-BR' }));
    expect(error).toMatchObject({ kind: 'bad_request', status: 404, retryable: false });
  });
});

describe('the stand-in refuses what Groq refuses (through groq-sdk)', () => {
  const client = () => new Groq({ apiKey: standin.apiKey, baseURL: standin.url, maxRetries: 0 });

  it('a language that is not ISO 639-1 → 400, not retryable', async () => {
    const file = await toFile(wav().bytes, 'a.wav');
    const error = await client()
      .audio.transcriptions.create({ file, model: 'whisper-large-v3-turbo', language: 'pt-BR' })
      .then(() => undefined, (e: unknown) => classifyGroqError(e, 'groq'));
    expect(error).toMatchObject({ kind: 'bad_request', status: 400, retryable: false });
  });

  it('a file over 25 MB → 413, not retryable', async () => {
    const file = await toFile(new Uint8Array(26 * 1024 * 1024), 'a.wav');
    const error = await client()
      .audio.transcriptions.create({ file, model: 'whisper-large-v3-turbo', language: 'pt' })
      .then(() => undefined, (e: unknown) => classifyGroqError(e, 'groq'));
    expect(error).toMatchObject({ kind: 'bad_request', status: 413, retryable: false });
  });

  it('an extra property on a message → 400', async () => {
    const error = await client()
      .chat.completions.create({
        model: 'openai/gpt-oss-20b',
        messages: [{ role: 'assistant', content: 'a', reasoning: 'b' } as never, { role: 'user', content: 'c' }],
      })
      .then(() => undefined, (e: unknown) => classifyGroqError(e, 'groq'));
    expect(error).toMatchObject({ kind: 'bad_request', status: 400 });
  });
});

describe('retry-after', () => {
  it('reads seconds, an HTTP date and retry-after-ms from a 429', async () => {
    standin.failNext({ status: 429, retryAfterS: 3 });
    expect((await rejection(llm().generate('Oi'))).retryAfterMs).toBe(3000);

    const at = new Date(Date.now() + 10_000).toUTCString();
    standin.failNext({ status: 429, retryAfter: at });
    const fromDate = (await rejection(llm().generate('Oi'))).retryAfterMs;
    expect(fromDate).toBeGreaterThan(7000);
    expect(fromDate).toBeLessThanOrEqual(10_000);

    standin.failNext({ status: 429, retryAfterS: 3, retryAfterMs: 1500 });
    expect((await rejection(stt().transcribe(wav(), { language: 'pt-BR' }))).retryAfterMs).toBe(1500);
  });

  it('parses headers directly', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterFromHeaders(undefined, now)).toBeUndefined();
  });
});

describe('classifyGroqError', () => {
  it('classifies by class and status', () => {
    const rate = new RateLimitError(429, { error: { message: 'x' } }, 'x', new Headers({ 'retry-after': '4' }));
    expect(classifyGroqError(rate, 'groq')).toMatchObject({ kind: 'rate_limited', retryAfterMs: 4000, retryable: true });
    const server = new InternalServerError(502, undefined, 'bad gateway', new Headers());
    expect(classifyGroqError(server, 'groq')).toMatchObject({ kind: 'server', status: 502, retryable: true });
    expect(classifyGroqError(new APIConnectionTimeoutError(), 'groq')).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyGroqError(new APIConnectionError({ message: 'refused' }), 'groq')).toMatchObject({ kind: 'connection' });
    expect(classifyGroqError(new APIUserAbortError(), 'groq')).toMatchObject({ kind: 'aborted', retryable: false });
    const domAbort = new DOMException('aborted', 'AbortError');
    expect(classifyGroqError(domAbort, 'groq')).toMatchObject({ kind: 'aborted' });
    expect(classifyGroqError(new Error('boom'), 'groq', AbortSignal.abort())).toMatchObject({ kind: 'aborted' });
  });
});

describe('type guards', () => {
  it('reject an LlmProvider mock missing one method', () => {
    const full: Record<keyof LlmProvider, () => unknown> = {
      info: () => ({ provider: 'mock', model: 'mock', supportsStreaming: true, acceptsAudio: false }),
      isAvailable: () => Promise.resolve(true),
      generate: () => Promise.resolve({}),
      stream: () => [],
      supportsTranscription: () => false,
      transcribe: () => Promise.resolve({}),
    };
    expect(isLlmProvider(full)).toBe(true);
    for (const method of Object.keys(full)) {
      expect(isLlmProvider(without(full, method))).toBe(false);
    }
    expect(isLlmProvider({ ...full, stream: 'not a function' })).toBe(false);
    // The right names with the wrong shapes: info() must answer the port's LlmInfo.
    expect(isLlmProvider({ ...full, info: () => ({}) })).toBe(false);
    expect(isLlmProvider(null)).toBe(false);
  });

  it('reject an SttProvider mock missing one method', () => {
    const full: Record<keyof SttProvider, () => unknown> = {
      info: () => ({ provider: 'mock', model: 'mock' }),
      isAvailable: () => Promise.resolve(true),
      transcribe: () => Promise.resolve({}),
    };
    expect(isSttProvider(full)).toBe(true);
    for (const method of Object.keys(full)) {
      expect(isSttProvider(without(full, method))).toBe(false);
    }
    expect(isSttProvider(undefined)).toBe(false);
    expect(isSttProvider({ ...full, info: () => ({}) })).toBe(false);
  });
});
