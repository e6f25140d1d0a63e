// One suite for every LlmProvider: the fake must pass what Groq passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLlmProvider, type ChatMessage, type GenerateOptions, type LlmProvider, type TokenUsage } from '../../src/shared/ports/llm-provider.js';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { rejection, collect } from '../support/provider-calls.js';

/** What the backend last received, as far as the harness can see it. */
export interface SeenLlmRequest {
  systemPrompt: string | undefined;
  temperature: number | undefined;
  maxTokens: number | undefined;
  /** History and prompt as they arrived, oldest first, without the system prompt. */
  messages: ChatMessage[];
}

export interface LlmHarness {
  provider: LlmProvider;
  /** The next call fails this way: 429 with a retry-after of 2 s, a 5xx, or no answer in time. */
  failNext(kind: 'rate_limited' | 'server' | 'timeout'): void;
  lastRequest(): SeenLlmRequest | undefined;
  close(): Promise<void>;
}

const HISTORY: readonly ChatMessage[] = [
  { role: 'user', content: 'Meu nome é Ana.' },
  { role: 'assistant', content: 'Prazer, Ana!' },
  { role: 'user', content: 'Eu moro em Recife.' },
  { role: 'assistant', content: 'Recife é linda.' },
];
const SYSTEM_PROMPT = 'Você é um assistente de voz. Responda em português do Brasil.';
/** A quarter second of a 440 Hz tone, 16 kHz mono: audio for providers that take it. */
const TONE_WAV = encodeWavPcm16(Int16Array.from({ length: 4000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000))), 16_000);

export function describeLlmContract(name: string, makeHarness: () => Promise<LlmHarness>): void {
  describe(`LlmProvider contract: ${name}`, () => {
    let h: LlmHarness;
    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(async () => {
      await h.close();
    });

    it('passes the type guard', () => {
      expect(isLlmProvider(h.provider)).toBe(true);
    });

    it('describes itself', () => {
      const info = h.provider.info();
      expect(info.provider).toEqual(expect.any(String));
      expect(info.provider).not.toBe('');
      expect(info.model).toEqual(expect.any(String));
      expect(info.model).not.toBe('');
      expect(info.supportsStreaming).toBe(true);
    });

    it('is available', async () => {
      await expect(h.provider.isAvailable()).resolves.toBe(true);
    });

    it('generates with system prompt, temperature, max tokens and history', async () => {
      const options: GenerateOptions = { systemPrompt: SYSTEM_PROMPT, temperature: 0.3, maxTokens: 200, history: HISTORY };
      const result = await h.provider.generate('Qual é o meu nome?', options);
      expect(result.text.trim()).not.toBe('');
      expect(result.model).not.toBe('');
      expect(result.finishReason ?? 'stop').toBe('stop');
      if (result.usage) {
        expect(result.usage.inputTokens).toBeGreaterThan(0);
        expect(result.usage.outputTokens).toBeGreaterThan(0);
      }
      expect(h.lastRequest()).toEqual({
        systemPrompt: SYSTEM_PROMPT,
        temperature: 0.3,
        maxTokens: 200,
        messages: [...HISTORY, { role: 'user', content: 'Qual é o meu nome?' }],
      });
    });

    it('stops at maxTokens with finishReason length', async () => {
      const result = await h.provider.generate('Fale bastante sobre o tempo em Recife hoje, por favor.', { maxTokens: 2 });
      expect(result.text.split(/\s+/).filter((w) => w !== '').length).toBeLessThanOrEqual(2);
      expect(result.finishReason).toBe('length');
    });

    it('streams in pieces that concatenate to what generate returns', async () => {
      const options: GenerateOptions = { systemPrompt: SYSTEM_PROMPT, history: HISTORY };
      const whole = await h.provider.generate('Conte até cinco.', options);
      const pieces = await collect(h.provider.stream('Conte até cinco.', options));
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.join('')).toBe(whole.text);
    });

    it('reports the token usage of a stream once it ends, as generate does', async () => {
      const options: GenerateOptions = { systemPrompt: SYSTEM_PROMPT, history: HISTORY };
      const whole = await h.provider.generate('Conte até cinco.', options);
      const reported: TokenUsage[] = [];
      await collect(h.provider.stream('Conte até cinco.', { ...options, onUsage: (u) => reported.push(u) }));
      expect(reported).toEqual([whole.usage]);
      expect(reported[0]?.outputTokens).toBeGreaterThan(0);
    });

    it('stops a stream when its signal aborts', async () => {
      const controller = new AbortController();
      const iterator = h.provider.stream('Conte de um até vinte, devagar.', { signal: controller.signal })[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      controller.abort();
      const error = await rejection(iterator.next());
      expect(error.kind).toBe('aborted');
      expect(error.retryable).toBe(false);
    });

    it('rejects calls whose signal is already aborted', async () => {
      const signal = AbortSignal.abort();
      expect((await rejection(h.provider.generate('Oi', { signal }))).kind).toBe('aborted');
      expect((await rejection(collect(h.provider.stream('Oi', { signal })))).kind).toBe('aborted');
    });

    it('turns a 429 into a retryable rate_limited error with retryAfterMs', async () => {
      h.failNext('rate_limited');
      const error = await rejection(h.provider.generate('Oi'));
      expect(error.kind).toBe('rate_limited');
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(2000);
      expect(error.status).toBe(429);
      // The failure was one call's: the next one answers.
      expect((await h.provider.generate('Oi')).text).not.toBe('');
    });

    it('fails a stream the same way', async () => {
      h.failNext('rate_limited');
      const error = await rejection(collect(h.provider.stream('Oi')));
      expect(error.kind).toBe('rate_limited');
      expect(error.retryAfterMs).toBe(2000);
    });

    it('turns a 5xx into a retryable server error', async () => {
      h.failNext('server');
      const error = await rejection(h.provider.generate('Oi'));
      expect(error.kind).toBe('server');
      expect(error.retryable).toBe(true);
      expect(error.status).toBeGreaterThanOrEqual(500);
    });

    it('turns no answer in time into a retryable timeout', async () => {
      h.failNext('timeout');
      const error = await rejection(h.provider.generate('Oi'));
      expect(error.kind).toBe('timeout');
      expect(error.retryable).toBe(true);
    });

    it('rejects bad input as not retryable', async () => {
      const error = await rejection(h.provider.generate('Oi', { temperature: 5 }));
      expect(error.kind).toBe('bad_request');
      expect(error.retryable).toBe(false);
    });

    it('says whether it transcribes, and refuses audio when it does not', async () => {
      if (h.provider.supportsTranscription()) return;
      const error = await rejection(
        h.provider.transcribe({ bytes: new Uint8Array([1, 2, 3]), mimeType: 'audio/wav' }, { language: 'pt-BR' }),
      );
      expect(error.kind).toBe('unsupported');
      expect(error.retryable).toBe(false);
    });

    it('transcribes when it says it does', async () => {
      if (!h.provider.supportsTranscription()) return;
      const result = await h.provider.transcribe({ bytes: TONE_WAV, mimeType: 'audio/wav' }, { language: 'pt-BR' });
      expect(result.text.trim()).not.toBe('');
      expect(result.durationMs).toBeGreaterThan(0);
    });

    it('answers a turn given as audio, after system prompt and history, when info() says it takes audio', async () => {
      if (!h.provider.info().acceptsAudio) return;
      const options: GenerateOptions = { systemPrompt: SYSTEM_PROMPT, history: HISTORY, audio: { bytes: TONE_WAV, mimeType: 'audio/wav' } };
      const whole = await h.provider.generate('', options);
      expect(whole.text.trim()).not.toBe('');
      const seen = h.lastRequest();
      expect(seen?.systemPrompt).toBe(SYSTEM_PROMPT);
      expect(seen?.messages.slice(0, HISTORY.length)).toEqual(HISTORY);
      expect(seen?.messages).toHaveLength(HISTORY.length + 1);
      expect((await collect(h.provider.stream('', options))).join('')).toBe(whole.text);
    });
  });
}
