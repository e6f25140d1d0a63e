// One suite for every SttProvider: the fake must pass what Groq passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSttProvider, type SttProvider } from '../../src/shared/ports/stt-provider.js';
import { makeWav } from '../support/wav.js';
import { rejection } from '../support/provider-calls.js';

export interface SttHarness {
  provider: SttProvider;
  /** The next call fails this way: 429 with a retry-after of 2 s, a 5xx, or no answer in time. */
  failNext(kind: 'rate_limited' | 'server' | 'timeout'): void;
  close(): Promise<void>;
}

const words = (text: string): string => text.replace(/\s+/g, ' ').trim();

export function describeSttContract(name: string, makeHarness: () => Promise<SttHarness>): void {
  describe(`SttProvider contract: ${name}`, () => {
    let h: SttHarness;
    const wav = { bytes: makeWav({ durationMs: 2000 }), mimeType: 'audio/wav' };
    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(async () => {
      await h.close();
    });

    it('passes the type guard', () => {
      expect(isSttProvider(h.provider)).toBe(true);
    });

    it('describes itself', () => {
      const info = h.provider.info();
      expect(info.provider).toEqual(expect.any(String));
      expect(info.provider).not.toBe('');
      expect(info.model).toEqual(expect.any(String));
      expect(info.model).not.toBe('');
    });

    it('is available', async () => {
      await expect(h.provider.isAvailable()).resolves.toBe(true);
    });

    it('transcribes: text, language tag, duration and ordered segments', async () => {
      const result = await h.provider.transcribe(wav, { language: 'pt-BR' });
      expect(result.text.trim()).not.toBe('');
      expect(result.language).toBe('pt');
      expect(Math.abs(result.durationMs - 2000)).toBeLessThanOrEqual(20);
      expect(result.segments.length).toBeGreaterThan(0);
      let previousEndMs = 0;
      for (const segment of result.segments) {
        expect(segment.startMs).toBeGreaterThanOrEqual(previousEndMs);
        expect(segment.startMs).toBeLessThan(segment.endMs);
        expect(segment.endMs).toBeLessThanOrEqual(result.durationMs + 20);
        if (segment.confidence !== undefined) {
          expect(segment.confidence).toBeGreaterThanOrEqual(0);
          expect(segment.confidence).toBeLessThanOrEqual(1);
        }
        previousEndMs = segment.endMs;
      }
      expect(words(result.segments.map((s) => s.text).join(' '))).toBe(words(result.text));
    });

    it('rejects empty audio as bad_request, not retryable', async () => {
      const error = await rejection(h.provider.transcribe({ bytes: new Uint8Array(0), mimeType: 'audio/wav' }, { language: 'pt-BR' }));
      expect(error.kind).toBe('bad_request');
      expect(error.retryable).toBe(false);
    });

    it('rejects a language that is not a tag', async () => {
      const error = await rejection(h.provider.transcribe(wav, { language: 'português do Brasil' }));
      expect(error.kind).toBe('bad_request');
      expect(error.retryable).toBe(false);
    });

    it('rejects a call whose signal is already aborted', async () => {
      const error = await rejection(h.provider.transcribe(wav, { language: 'pt-BR', signal: AbortSignal.abort() }));
      expect(error.kind).toBe('aborted');
    });

    it('turns a 429 into a retryable rate_limited error with retryAfterMs', async () => {
      h.failNext('rate_limited');
      const error = await rejection(h.provider.transcribe(wav, { language: 'pt-BR' }));
      expect(error.kind).toBe('rate_limited');
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(2000);
      await expect(h.provider.transcribe(wav, { language: 'pt-BR' })).resolves.toMatchObject({ language: 'pt' });
    });

    it('turns a 5xx into a retryable server error', async () => {
      h.failNext('server');
      const error = await rejection(h.provider.transcribe(wav, { language: 'pt-BR' }));
      expect(error.kind).toBe('server');
      expect(error.retryable).toBe(true);
    });

    it('turns no answer in time into a retryable timeout', async () => {
      h.failNext('timeout');
      const error = await rejection(h.provider.transcribe(wav, { language: 'pt-BR' }));
      expect(error.kind).toBe('timeout');
      expect(error.retryable).toBe(true);
    });
  });
}
