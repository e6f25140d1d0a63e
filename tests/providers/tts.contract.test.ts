import { describe, expect, it } from 'vitest';
import { EspeakNgTtsProvider, espeakVoiceFor } from '../../src/shared/providers/espeak-tts.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { OpenAiTtsProvider } from '../../src/shared/providers/openai-tts.js';
import { isTtsProvider } from '../../src/shared/ports/tts-provider.js';
import { isProviderError } from '../../src/shared/providers/provider-error.js';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { describeTtsContract } from '../contracts/tts-provider.contract.js';
import { startGroqStandin } from '../support/groq-standin.js';

describeTtsContract('fake', () => Promise.resolve({ provider: new FakeTtsProvider(), close: () => Promise.resolve() }));
describeTtsContract('fake with latency', () =>
  Promise.resolve({ provider: new FakeTtsProvider({ latencyMs: 5, sampleRateHz: 24_000 }), close: () => Promise.resolve() }),
);
describeTtsContract('espeak-ng', () => Promise.resolve({ provider: new EspeakNgTtsProvider(), close: () => Promise.resolve() }));
describeTtsContract('openai (stand-in)', async () => {
  const standin = await startGroqStandin();
  return { provider: new OpenAiTtsProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, timeoutMs: 5000 }), close: () => standin.close() };
});

describe('isTtsProvider', () => {
  it('rejects an object missing a method', () => {
    const incomplete = { info: () => ({ provider: 'x', model: 'y' }), isAvailable: () => Promise.resolve(true), synthesize: () => undefined };
    expect(isTtsProvider(incomplete)).toBe(false);
    expect(isTtsProvider(null)).toBe(false);
    expect(isTtsProvider('tts')).toBe(false);
  });
});

describe('EspeakNgTtsProvider', () => {
  const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

  it('maps Kokoro voices to espeak-ng voices and variants', () => {
    expect(espeakVoiceFor('pf_dora', 'pt-BR')).toBe('pt-br+f3');
    expect(espeakVoiceFor('pm_alex', 'pt-BR')).toBe('pt-br+m3');
    expect(espeakVoiceFor('af_heart', 'en-US')).toBe('en-us+f3');
    expect(espeakVoiceFor('whoever', 'pt-PT')).toBe('pt');
  });

  it('fixes the streamed WAV header so sizes match the bytes', async () => {
    const audio = await new EspeakNgTtsProvider().synthesize('Bom dia.', PT_BR);
    const view = new DataView(audio.bytes.buffer, audio.bytes.byteOffset, audio.bytes.byteLength);
    expect(view.getUint32(4, true)).toBe(audio.bytes.byteLength - 8);
    const wav = readWavInfo(audio.bytes);
    expect(wav?.sampleRateHz).toBe(22_050);
    expect(wav?.dataBytes).toBe(audio.bytes.byteLength - 44);
  });

  it('speaks an unknown voice name in the language default voice', async () => {
    const audio = await new EspeakNgTtsProvider().synthesize('Bom dia.', { ...PT_BR, voice: 'no-such-voice' });
    expect(audio.durationMs).toBeGreaterThan(0);
  });

  it('rejects a language espeak-ng does not speak, without retry', async () => {
    const error = await new EspeakNgTtsProvider().synthesize('Bom dia.', { ...PT_BR, language: 'qq-ZZ' }).catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe('bad_request');
  });

  it('reports a missing binary as unavailable and retryable connection failure', async () => {
    const missing = new EspeakNgTtsProvider({ binary: '/nonexistent/espeak-ng' });
    await expect(missing.isAvailable()).resolves.toBe(false);
    const error = await missing.synthesize('Bom dia.', PT_BR).catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe('connection');
    expect(isProviderError(error) && error.retryable).toBe(true);
  });

  it('times out a synthesis that takes too long', async () => {
    const slow = new EspeakNgTtsProvider({ timeoutMs: 1 });
    const error = await slow.synthesize('Bom dia. '.repeat(200), PT_BR).catch((e: unknown) => e);
    expect(isProviderError(error) && error.kind).toBe('timeout');
  });
});
