// A streamed reply's sentence chunks as one audio file, as the client heard them: back to back.
// 16-bit PCM WAV chunks of one format are joined sample for sample; other containers whose
// frames may follow one another (MP3, Ogg pages) are concatenated.
import type { AudioFormat } from '../ports/audio.js';
import { encodeWavPcm16, readWavPcm16 } from './wav.js';

export interface AudioChunk {
  bytes: Uint8Array;
  format: AudioFormat;
  durationMs: number;
}

export function joinChunks(chunks: readonly AudioChunk[]): AudioChunk {
  const first = chunks[0];
  if (!first) throw new RangeError('no audio chunks to join');
  if (chunks.length === 1) return first;
  const durationMs = chunks.reduce((sum, c) => sum + c.durationMs, 0);
  const sameFormat = chunks.every((c) => c.format.sampleRateHz === first.format.sampleRateHz && c.format.channels === first.format.channels && c.format.container === first.format.container);
  if (sameFormat && first.format.container === 'wav') {
    const parts = chunks.map((c) => readWavPcm16(c.bytes));
    if (parts.every((p): p is Int16Array => p !== null)) {
      const samples = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        samples.set(part, offset);
        offset += part.length;
      }
      return { bytes: encodeWavPcm16(samples, first.format.sampleRateHz, first.format.channels), format: first.format, durationMs };
    }
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.bytes.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk.bytes, offset);
    offset += chunk.bytes.length;
  }
  return { bytes, format: first.format, durationMs };
}
