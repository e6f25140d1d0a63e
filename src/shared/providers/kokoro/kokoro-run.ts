// One Kokoro utterance: the token ids of each piece (already framed with Kokoro's `$` padding) + a
// voice + speed → inference piece by piece → pieces joined without clicks → 16-bit WAV, or the
// joined 24 kHz samples for ffmpeg to encode. The same function runs on a synthesis thread or,
// with threads off, inline: what the caller's event loop gets back is one buffer to pass on.
import type { KokoroTTS } from 'kokoro-js';
import { encodeSpeech } from '../../audio/encode-speech.js';
import { joinSpeech } from '../../audio/join-speech.js';
import { KOKORO_SAMPLE_RATE_HZ } from './kokoro-model.js';

export interface KokoroRequest {
  /** input_ids of each piece, padding included: [0, …phoneme ids, 0]; at least one piece. */
  pieces: readonly (readonly number[])[];
  voice: string;
  speed: number;
  /** wav: the utterance as 16-bit PCM WAV bytes; samples: the joined float samples. */
  output: 'wav' | 'samples';
}

export type KokoroSpeech =
  | { output: 'wav'; bytes: Uint8Array; sampleCount: number }
  | { output: 'samples'; samples: Float32Array; sampleCount: number };

/** Thrown between pieces when `stopped()` says the caller no longer wants the audio. */
export class KokoroRunStopped extends Error {
  override readonly name = 'KokoroRunStopped';
  constructor() {
    super('synthesis aborted');
  }
}

/**
 * Runs the pieces one after another; `stopped` is asked before each, so a cancelled utterance
 * gives its thread back after the piece in progress. The result owns its buffer (transferable).
 */
export async function runKokoro(tts: KokoroTTS, request: KokoroRequest, stopped: () => boolean = () => false): Promise<KokoroSpeech> {
  if (request.pieces.length === 0) throw new RangeError('an utterance needs at least one piece');
  // Loaded already by loadKokoro (a dynamic import, to keep it out of processes that never use Kokoro).
  const { Tensor } = await import('@huggingface/transformers');
  const pieces: Float32Array[] = [];
  for (const ids of request.pieces) {
    if (stopped()) throw new KokoroRunStopped();
    const input = new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]);
    // generate_from_ids skips kokoro-js's English-only phonemizer and its English-only voice check;
    // it reads the voice's style vector from the files that ship inside kokoro-js.
    const audio = await tts.generate_from_ids(input, { voice: request.voice as 'af_heart', speed: request.speed });
    pieces.push(audio.audio);
  }
  const joined = joinSpeech(pieces, { sampleRateHz: KOKORO_SAMPLE_RATE_HZ });
  if (request.output === 'wav') {
    const bytes = await encodeSpeech(joined, KOKORO_SAMPLE_RATE_HZ, 'wav');
    return { output: 'wav', bytes, sampleCount: joined.length };
  }
  // One piece comes back as the model's own output array, which may view a larger buffer.
  const samples = pieces.length === 1 ? joined.slice() : joined;
  return { output: 'samples', samples, sampleCount: samples.length };
}
