// From per-frame speech probabilities to speech regions, and from regions to the chunks sent to
// the provider: cut at silences, each under the provider's duration/size limit, leading and
// trailing silence (and silence between chunks) left out. Times are whole milliseconds of the
// decoded 16 kHz audio, so a chunk's offset is exact.
import { VAD_FRAME_MS } from './silero-vad.js';

export interface SpeechRegion {
  startMs: number;
  endMs: number;
}

export interface SpeechOptions {
  /** Speech starts at or above this probability (Silero's default 0.5). */
  threshold?: number;
  /** …and ends below this one (default threshold − 0.15). */
  negThreshold?: number;
  /** Silence shorter than this does not end a region (default 300 ms). */
  minSilenceMs?: number;
  /** Regions shorter than this are noise (default 200 ms). */
  minSpeechMs?: number;
  /** Kept around each region (default 200 ms). */
  padMs?: number;
}

export function speechRegions(probs: Float32Array, totalMs: number, options: SpeechOptions = {}): SpeechRegion[] {
  const threshold = options.threshold ?? 0.5;
  const neg = options.negThreshold ?? threshold - 0.15;
  const minSilenceFrames = Math.ceil((options.minSilenceMs ?? 300) / VAD_FRAME_MS);
  const minSpeechMs = options.minSpeechMs ?? 200;
  const padMs = options.padMs ?? 200;
  const raw: SpeechRegion[] = [];
  let start = -1;
  let silent = 0;
  for (let f = 0; f < probs.length; f += 1) {
    const p = probs[f] ?? 0;
    if (start < 0) {
      if (p >= threshold) {
        start = f;
        silent = 0;
      }
    } else if (p < neg) {
      silent += 1;
      if (silent >= minSilenceFrames) {
        raw.push({ startMs: start * VAD_FRAME_MS, endMs: (f - silent + 1) * VAD_FRAME_MS });
        start = -1;
      }
    } else {
      silent = 0;
    }
  }
  if (start >= 0) raw.push({ startMs: start * VAD_FRAME_MS, endMs: (probs.length - silent) * VAD_FRAME_MS });
  const regions: SpeechRegion[] = [];
  for (const r of raw) {
    if (r.endMs - r.startMs < minSpeechMs) continue;
    const padded = { startMs: Math.max(0, Math.floor(r.startMs - padMs)), endMs: Math.min(totalMs, Math.ceil(r.endMs + padMs)) };
    const last = regions[regions.length - 1];
    if (last && padded.startMs <= last.endMs) last.endMs = Math.max(last.endMs, padded.endMs);
    else regions.push(padded);
  }
  return regions;
}

/**
 * Groups regions into chunks of at most `maxChunkMs`, cutting only between regions (at a
 * silence). A single region longer than that is cut at its least speech-like frame in the second
 * half of each window.
 */
export function planChunks(regions: readonly SpeechRegion[], probs: Float32Array, maxChunkMs: number): SpeechRegion[] {
  const pieces: SpeechRegion[] = [];
  for (const region of regions) pieces.push(...splitLong(region, probs, maxChunkMs));
  const chunks: SpeechRegion[] = [];
  for (const piece of pieces) {
    const last = chunks[chunks.length - 1];
    if (last && piece.endMs - last.startMs <= maxChunkMs) last.endMs = piece.endMs;
    else chunks.push({ ...piece });
  }
  return chunks;
}

function splitLong(region: SpeechRegion, probs: Float32Array, maxChunkMs: number): SpeechRegion[] {
  const out: SpeechRegion[] = [];
  let start = region.startMs;
  while (region.endMs - start > maxChunkMs) {
    const from = Math.ceil((start + maxChunkMs / 2) / VAD_FRAME_MS);
    const to = Math.floor((start + maxChunkMs) / VAD_FRAME_MS) - 1;
    let best = to;
    for (let f = to; f >= from; f -= 1) if ((probs[f] ?? 1) < (probs[best] ?? 1)) best = f;
    const cut = Math.min(start + maxChunkMs, Math.round(best * VAD_FRAME_MS));
    out.push({ startMs: start, endMs: cut });
    start = cut;
  }
  out.push({ startMs: start, endMs: region.endMs });
  return out;
}
