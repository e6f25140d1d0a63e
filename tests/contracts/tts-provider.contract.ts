// One suite every TtsProvider must pass: the fake and each real engine alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { isTtsProvider, type SynthesizeOptions, type TtsProvider } from '../../src/shared/ports/tts-provider.js';
import { rejection } from '../support/provider-calls.js';

export interface TtsUnderTest {
  provider: TtsProvider;
  close(): Promise<void>;
}

const REPLY = 'Olá! Eu sou a assistente de voz. Como posso ajudar você hoje?';
const PT_BR: SynthesizeOptions = { voice: 'pf_dora', language: 'pt-BR', speed: 1.0 };

export function describeTtsContract(name: string, makeProvider: () => Promise<TtsUnderTest>): void {
  describe(`TtsProvider contract: ${name}`, () => {
    let subject: TtsUnderTest;
    let provider: TtsProvider;

    beforeAll(async () => {
      subject = await makeProvider();
      provider = subject.provider;
    });
    afterAll(async () => {
      await subject?.close();
    });

    it('passes the type guard', () => {
      expect(isTtsProvider(provider)).toBe(true);
    });

    it('describes itself', () => {
      const info = provider.info();
      expect(info.provider).toMatch(/\S/);
      expect(info.model).toMatch(/\S/);
      const format = provider.audioFormat();
      expect(format.container).toMatch(/\S/);
      expect(format.codec).toMatch(/\S/);
      expect(format.mimeType).toMatch(/^audio\//);
      expect(format.sampleRateHz).toBeGreaterThan(0);
      expect(format.channels).toBeGreaterThan(0);
    });

    it('is available', async () => {
      await expect(provider.isAvailable()).resolves.toBe(true);
    });

    it('speaks pt-BR as audio in the format it announces', async () => {
      const audio = await provider.synthesize(REPLY, PT_BR);
      const announced = provider.audioFormat();
      const probed = await probeAudio(audio.bytes, { trustWavHeader: false });
      expect(probed.container).toBe(announced.container);
      expect(probed.codec).toBe(announced.codec);
      expect(probed.sampleRateHz).toBe(announced.sampleRateHz);
      expect(probed.channels).toBe(announced.channels);
      expect(probed.mimeType).toBe(announced.mimeType);
      expect(audio.format).toEqual(announced);
      expect(audio.durationMs).toBeGreaterThan(0);
      expect(Math.abs(probed.durationMs - audio.durationMs)).toBeLessThanOrEqual(audio.durationMs * 0.05);
    });

    it('speaks faster at speed 2.0 than at 0.5', async () => {
      const fast = await provider.synthesize(REPLY, { ...PT_BR, speed: 2.0 });
      const slow = await provider.synthesize(REPLY, { ...PT_BR, speed: 0.5 });
      expect(fast.durationMs).toBeLessThan(slow.durationMs);
    });

    it('rejects empty text without retry', async () => {
      for (const text of ['', '   \n\t']) {
        const error = await rejection(provider.synthesize(text, PT_BR));
        expect(error.retryable).toBe(false);
        expect(error.kind).toBe('bad_request');
      }
    });

    it('stops when aborted before the call', async () => {
      const error = await rejection(provider.synthesize(REPLY, { ...PT_BR, signal: AbortSignal.abort() }));
      expect(error.kind).toBe('aborted');
      expect(error.retryable).toBe(false);
    });

    it('stops when aborted during the call', async () => {
      const controller = new AbortController();
      const pending = provider.synthesize(REPLY.repeat(20), { ...PT_BR, signal: controller.signal });
      controller.abort();
      const error = await rejection(pending);
      expect(error.kind).toBe('aborted');
    });
  });
}
