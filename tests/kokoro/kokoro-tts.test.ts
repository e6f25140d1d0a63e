// Kokoro through kokoro-js's real loading code, on a generated model with Kokoro's inputs and
// outputs (tests/support/kokoro): the TTS contract, formats, the pt-BR path end to end, long text,
// unknown voices, a model that is not there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { KokoroTtsProvider, kokoroVoices } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import type { SynthesizeOptions } from '../../src/shared/ports/tts-provider.js';
import { describeTtsContract } from '../contracts/tts-provider.contract.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';
import { rejection } from '../support/provider-calls.js';

const PT_BR: SynthesizeOptions = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

function kokoro(folder: KokoroFolder, extra: Partial<ConstructorParameters<typeof KokoroTtsProvider>[0]> = {}): KokoroTtsProvider {
  return new KokoroTtsProvider({
    model: { model: 'local', modelDir: folder.dir, cacheDir: `${folder.dir}/cache`, dtype: 'q8' },
    device: 'cpu',
    threads: 1,
    ...extra,
  });
}

/** The 16-bit samples of a WAV as floats. */
function wavSamples(bytes: Uint8Array): Float32Array {
  const info = readWavInfo(bytes);
  if (!info) throw new Error('not a WAV');
  const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + 44 + info.dataBytes));
  return Float32Array.from(pcm, (s) => s / 0x8000);
}

let folder: KokoroFolder;
beforeAll(async () => {
  folder = await makeKokoroFolder({ layers: 1 });
});
afterAll(async () => {
  await folder?.remove();
});

describeTtsContract('kokoro (generated model, synthesis thread)', () => {
  const provider = kokoro(folder);
  return Promise.resolve({ provider, close: () => provider.close() });
});
describeTtsContract('kokoro (generated model, inline)', () => {
  const provider = kokoro(folder, { threads: 0 });
  return Promise.resolve({ provider, close: () => provider.close() });
});
describeTtsContract('kokoro (Ogg Opus)', () => {
  const provider = kokoro(folder, { format: 'opus' });
  return Promise.resolve({ provider, close: () => provider.close() });
});
describeTtsContract('kokoro (MP3)', () => {
  const provider = kokoro(folder, { format: 'mp3' });
  return Promise.resolve({ provider, close: () => provider.close() });
});

describe('KokoroTtsProvider', () => {
  let provider: KokoroTtsProvider;
  beforeAll(() => {
    provider = kokoro(folder);
  });
  afterAll(async () => {
    await provider.close();
  });

  it('finds every voice that ships with kokoro-js, the Brazilian ones included', () => {
    const voices = kokoroVoices();
    expect(voices).toEqual(expect.arrayContaining(['pf_dora', 'pm_alex', 'pm_santa', 'af_heart']));
    expect(voices.length).toBeGreaterThanOrEqual(50);
  });

  it('writes 24 kHz mono 16-bit WAV by default', async () => {
    const audio = await provider.synthesize('Bom dia!', PT_BR);
    expect(readWavInfo(audio.bytes)).toMatchObject({ sampleRateHz: 24_000, channels: 1, bitsPerSample: 16 });
    expect(audio.format).toEqual({ container: 'wav', codec: 'pcm_s16le', sampleRateHz: 24_000, channels: 1, mimeType: 'audio/wav' });
  });

  it('reads money as a Brazilian would before phonemising: more tokens than the raw digits', async () => {
    // "R$ 3,50" → "três reais e cinquenta centavos": the generated model makes 1,200 samples per
    // token, so the spoken form's extra phonemes show up as extra audio.
    const raw = await provider.synthesize('real três vírgula cinquenta', PT_BR);
    const read = await provider.synthesize('R$ 3,50', PT_BR);
    expect(read.durationMs).toBeGreaterThan(raw.durationMs);
  });

  it('any Kokoro voice speaks pt-BR text; the voice changes the sound', async () => {
    const dora = wavSamples((await provider.synthesize('Olá, tudo bem?', PT_BR)).bytes);
    const alex = wavSamples((await provider.synthesize('Olá, tudo bem?', { ...PT_BR, voice: 'pm_alex' })).bytes);
    expect(alex.length).toBe(dora.length);
    expect(alex).not.toEqual(dora);
  });

  it('splits text past 510 phoneme tokens at sentence ends and joins the pieces without clicks', async () => {
    const long = 'Eu gosto muito de conversar com você sobre o tempo e as viagens. '.repeat(20);
    const audio = await provider.synthesize(long, PT_BR);
    const samples = wavSamples(audio.bytes);
    // 20 sentences of ~60 phonemes: well past one model call, far short of a truncation.
    expect(audio.durationMs).toBeGreaterThan(20 * 40 * 50);
    let largestStep = 0;
    for (let i = 1; i < samples.length; i += 1) largestStep = Math.max(largestStep, Math.abs((samples[i] ?? 0) - (samples[i - 1] ?? 0)));
    // The tone moves at most ~0.03 per sample; a hard cut between pieces would jump by up to 0.3.
    expect(largestStep).toBeLessThan(0.06);
    const silentRuns = countSilentRuns(samples, 24_000 * 0.1);
    expect(silentRuns).toBeGreaterThanOrEqual(1);
  });

  it('names an unknown voice, without retry', async () => {
    const error = await rejection(provider.synthesize('Oi.', { ...PT_BR, voice: 'xx_nobody' }));
    expect(error.kind).toBe('bad_request');
    expect(error.message).toContain('xx_nobody');
  });

  it('rejects text with nothing to pronounce', async () => {
    const error = await rejection(provider.synthesize('... !!! — ?', PT_BR));
    expect(error.kind).toBe('bad_request');
  });

  it('says clearly when the model folder is not there', async () => {
    const missing = new KokoroTtsProvider({
      model: { model: 'local', modelDir: `${folder.dir}-missing`, cacheDir: `${folder.dir}/cache`, dtype: 'q8' },
      device: 'cpu',
    });
    await expect(missing.isAvailable()).resolves.toBe(false);
    const error = await rejection(missing.synthesize('Oi.', PT_BR));
    expect(error.message).toMatch(/could not load the model .*-missing/);
    await missing.close();
  });

  it('ffprobe agrees with the announced Opus format', async () => {
    const opus = kokoro(folder, { format: 'opus' });
    try {
      const audio = await opus.synthesize('Tudo certo por aqui.', PT_BR);
      const probed = await probeAudio(audio.bytes);
      expect(probed).toMatchObject({ container: 'ogg', codec: 'opus', channels: 1 });
    } finally {
      await opus.close();
    }
  });
});

/** Runs of at least `minSamples` exact zeros: the pauses between joined pieces. */
function countSilentRuns(samples: Float32Array, minSamples: number): number {
  let runs = 0;
  let current = 0;
  for (const s of samples) {
    current = s === 0 ? current + 1 : 0;
    if (current === Math.round(minSamples)) runs += 1;
  }
  return runs;
}
