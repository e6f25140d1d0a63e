// What the Groq stand-in "hears" in batch tests: the speech islands of a 16 kHz mono WAV chunk
// (by energy), each named by the phrase of the closest length. Deterministic, and right only if
// the chunk really holds those phrases: a chunk cut mid-phrase, or the wrong audio, reads wrong.
import { readWavInfo } from '../../../src/shared/audio/wav.js';
import type { StandinSegment } from '../../support/groq-standin.js';

export interface Island {
  startMs: number;
  endMs: number;
}

const FRAME_MS = 10;

export function islandsOf(samples: Float32Array, rateHz: number): Island[] {
  const frame = Math.round((rateHz * FRAME_MS) / 1000);
  const loud: boolean[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j += 1) sum += (samples[j] ?? 0) ** 2;
    loud.push(Math.sqrt(sum / frame) > 0.02);
  }
  const islands: Island[] = [];
  let start = -1;
  let quiet = 0;
  loud.forEach((isLoud, f) => {
    if (isLoud) {
      if (start < 0) start = f;
      quiet = 0;
    } else if (start >= 0) {
      quiet += 1;
      if (quiet * FRAME_MS >= 400) {
        islands.push({ startMs: start * FRAME_MS, endMs: (f - quiet + 1) * FRAME_MS });
        start = -1;
      }
    }
  });
  if (start >= 0) islands.push({ startMs: start * FRAME_MS, endMs: (loud.length - quiet) * FRAME_MS });
  return islands.filter((i) => i.endMs - i.startMs >= 150);
}

export function wavSamples(bytes: Uint8Array): { samples: Float32Array; rateHz: number } {
  const info = readWavInfo(bytes);
  if (!info || info.bitsPerSample !== 16 || info.channels !== 1) throw new Error('expected 16-bit mono WAV');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataStart = bytes.byteLength - info.dataBytes;
  const samples = new Float32Array(info.dataBytes / 2);
  for (let i = 0; i < samples.length; i += 1) samples[i] = view.getInt16(dataStart + i * 2, true) / 32768;
  return { samples, rateHz: info.sampleRateHz };
}

export class PhraseRecognizer {
  constructor(
    private readonly phrases: readonly string[],
    /** Island length of each phrase, ms. */
    private readonly lengthsMs: readonly number[],
  ) {
    const sorted = [...lengthsMs].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i += 1) {
      if ((sorted[i] ?? 0) - (sorted[i - 1] ?? 0) < 300) throw new Error(`phrase lengths too close to tell apart: ${lengthsMs.join(', ')}`);
    }
  }

  phraseOf(island: Island): string {
    const length = island.endMs - island.startMs;
    let best = 0;
    this.lengthsMs.forEach((l, i) => {
      if (Math.abs(l - length) < Math.abs((this.lengthsMs[best] ?? 0) - length)) best = i;
    });
    return this.phrases[best] ?? '';
  }

  segments(audio: Uint8Array): StandinSegment[] {
    const { samples, rateHz } = wavSamples(audio);
    return islandsOf(samples, rateHz).map((island) => ({ start: island.startMs / 1000, end: island.endMs / 1000, text: this.phraseOf(island) }));
  }
}
