// Joining synthesized pieces (one per sentence group) into one utterance without clicks: each
// piece is faded in and out over a few milliseconds, so no join jumps from a loud sample to
// silence, and a short pause stands between pieces as between sentences.

export interface JoinOptions {
  sampleRateHz: number;
  /** Silence between pieces (default 120 ms). */
  gapMs?: number;
  /** Fade at each piece's edges (default 8 ms). */
  fadeMs?: number;
}

export function joinSpeech(pieces: readonly Float32Array[], { sampleRateHz, gapMs = 120, fadeMs = 8 }: JoinOptions): Float32Array {
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  const gap = Math.round((gapMs / 1000) * sampleRateHz);
  const total = pieces.reduce((n, p) => n + p.length, 0) + gap * Math.max(0, pieces.length - 1);
  const out = new Float32Array(total);
  let offset = 0;
  pieces.forEach((piece, i) => {
    out.set(piece, offset);
    const fade = Math.min(Math.round((fadeMs / 1000) * sampleRateHz), Math.floor(piece.length / 2));
    for (let k = 0; k < fade; k += 1) {
      const gain = k / fade;
      if (i > 0) out[offset + k] = (out[offset + k] ?? 0) * gain;
      if (i < pieces.length - 1) out[offset + piece.length - 1 - k] = (out[offset + piece.length - 1 - k] ?? 0) * gain;
    }
    offset += piece.length + gap;
  });
  return out;
}
