// One Kokoro inference: token ids (already framed with Kokoro's `$` padding) + a voice + speed →
// 24 kHz samples. The same function runs on a synthesis thread or, with threads off, inline.
import type { KokoroTTS } from 'kokoro-js';

export interface KokoroRequest {
  /** input_ids, padding included: [0, …phoneme ids, 0]. */
  ids: readonly number[];
  voice: string;
  speed: number;
}

export async function runKokoro(tts: KokoroTTS, request: KokoroRequest): Promise<Float32Array> {
  // Loaded already by loadKokoro (a dynamic import, to keep it out of processes that never use Kokoro).
  const { Tensor } = await import('@huggingface/transformers');
  const ids = new Tensor('int64', BigInt64Array.from(request.ids, (id) => BigInt(id)), [1, request.ids.length]);
  // generate_from_ids skips kokoro-js's English-only phonemizer and its English-only voice check;
  // it reads the voice's style vector from the files that ship inside kokoro-js.
  const audio = await tts.generate_from_ids(ids, { voice: request.voice as 'af_heart', speed: request.speed });
  return audio.audio;
}
