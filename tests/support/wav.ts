// A sine-tone WAV of a given length, for tests that need valid audio but not speech.
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';

export interface MakeWavOptions {
  durationMs: number;
  sampleRateHz?: number;
  /** 0 → silence. */
  freqHz?: number;
}

export function makeWav({ durationMs, sampleRateHz = 16_000, freqHz = 440 }: MakeWavOptions): Uint8Array {
  const frames = Math.round((durationMs / 1000) * sampleRateHz);
  const samples = new Int16Array(frames);
  const step = (2 * Math.PI * freqHz) / sampleRateHz;
  for (let i = 0; i < frames; i += 1) samples[i] = Math.round(0.3 * 32767 * Math.sin(step * i));
  return encodeWavPcm16(samples, sampleRateHz);
}
