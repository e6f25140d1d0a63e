// Kokoro-82M's phoneme vocabulary and the `input_ids` framing its model expects.
//
// Source: the `vocab` object of hexgrad/Kokoro-82M `config.json` (v1.0, n_token 178), read from a
// byte-for-byte copy of that file (mlx-community/Kokoro-82M-bf16 config.json, pinned in a public
// test fixture) and cross-checked against three other public mirrors of the same table. Ids are
// sparse (7, 8, 26–30, … are unused) because the v1.0 model kept the v0.19 embedding rows.
// hexgrad/kokoro `kokoro/model.py` tokenizes by looking up each *code point* of the phoneme string
// (unknown ones are silently skipped), then frames the ids as [0, …ids, 0] and asserts
// len(ids) + 2 <= 512 (PL-BERT's max_position_embeddings).

/** Symbol (one code point) → token id, exactly as in Kokoro-82M's config.json. */
export const KOKORO_VOCAB: ReadonlyMap<string, number> = new Map<string, number>([
  // punctuation and space
  [';', 1], [':', 2], [',', 3], ['.', 4], ['!', 5], ['?', 6], ['—', 9], ['…', 10], ['"', 11],
  ['(', 12], [')', 13], ['“', 14], ['”', 15], [' ', 16],
  // combining tilde (nasal vowels: misaki keeps it as a separate symbol), affricates, misc
  ['\u0303', 17], ['ʣ', 18], ['ʥ', 19], ['ʦ', 20], ['ʨ', 21], ['ᵝ', 22], ['\uAB67', 23],
  // misaki's one-letter diphthongs/flaps: A=eɪ I=aɪ O=oʊ Q=əʊ S=ss T=ɾ(en) W=aʊ Y=ɔɪ; ᵊ = syllabic schwa
  ['A', 24], ['I', 25], ['O', 31], ['Q', 33], ['S', 35], ['T', 36], ['W', 39], ['Y', 41], ['ᵊ', 42],
  ['a', 43], ['b', 44], ['c', 45], ['d', 46], ['e', 47], ['f', 48], ['h', 50], ['i', 51], ['j', 52],
  ['k', 53], ['l', 54], ['m', 55], ['n', 56], ['o', 57], ['p', 58], ['q', 59], ['r', 60], ['s', 61],
  ['t', 62], ['u', 63], ['v', 64], ['w', 65], ['x', 66], ['y', 67], ['z', 68],
  ['ɑ', 69], ['ɐ', 70], ['ɒ', 71], ['æ', 72], ['β', 75], ['ɔ', 76], ['ɕ', 77], ['ç', 78], ['ɖ', 80],
  ['ð', 81], ['ʤ', 82], ['ə', 83], ['ɚ', 85], ['ɛ', 86], ['ɜ', 87], ['ɟ', 90], ['ɡ', 92], ['ɥ', 99],
  ['ɨ', 101], ['ɪ', 102], ['ʝ', 103], ['ɯ', 110], ['ɰ', 111], ['ŋ', 112], ['ɳ', 113], ['ɲ', 114],
  ['ɴ', 115], ['ø', 116], ['ɸ', 118], ['θ', 119], ['œ', 120], ['ɹ', 123], ['ɾ', 125], ['ɻ', 126],
  ['ʁ', 128], ['ɽ', 129], ['ʂ', 130], ['ʃ', 131], ['ʈ', 132], ['ʧ', 133], ['ʊ', 135], ['ʋ', 136],
  ['ʌ', 138], ['ɣ', 139], ['ɤ', 140], ['χ', 142], ['ʎ', 143], ['ʒ', 147], ['ʔ', 148],
  // stress, length, aspiration, palatalization, intonation arrows
  ['ˈ', 156], ['ˌ', 157], ['ː', 158], ['ʰ', 162], ['ʲ', 164], ['↓', 169], ['→', 171], ['↗', 172],
  ['↘', 173], ['ᵻ', 177],
]);

/** Id 0 is the pad token; Kokoro puts one before and one after the phoneme ids. */
export const KOKORO_PAD_ID = 0;
/** Most phoneme tokens one model call takes: 512 positions less the two pads. */
export const KOKORO_MAX_PHONEME_TOKENS = 510;

export interface TokenizedPhonemes {
  /** Token ids of the known symbols, in order (no padding). */
  ids: number[];
  /** Symbols not in the vocabulary, in order of appearance; Kokoro would skip them silently. */
  dropped: string[];
}

/** Maps each code point to its id, as Kokoro does; unknown symbols are dropped and reported. */
export function tokenizePhonemes(phonemes: string): TokenizedPhonemes {
  const ids: number[] = [];
  const dropped: string[] = [];
  // for…of walks code points, like Python's iteration over a str (every key is one BMP code point).
  for (const symbol of phonemes) {
    const id = KOKORO_VOCAB.get(symbol);
    if (id === undefined) dropped.push(symbol);
    else ids.push(id);
  }
  return { ids, dropped };
}

/** Punctuation and the space: a piece with nothing else would be a model run of silence. */
const PUNCTUATION_IDS: ReadonlySet<number> = new Set(Array.from(';:,.!?—…"()“” ', (symbol) => KOKORO_VOCAB.get(symbol) ?? -1));

/** True when the ids hold at least one phoneme (not only punctuation and spaces). */
export function hasPhonemes(ids: readonly number[]): boolean {
  return ids.some((id) => !PUNCTUATION_IDS.has(id));
}

/** How many tokens a phoneme string costs (unknown symbols cost nothing: they are dropped). */
export function countPhonemeTokens(phonemes: string): number {
  let count = 0;
  for (const symbol of phonemes) if (KOKORO_VOCAB.has(symbol)) count++;
  return count;
}

/**
 * The model's `input_ids`: [0, …ids, 0]. Throws a RangeError past 510 ids: the model has 512
 * positions (hexgrad's KModel asserts this; kokoro-js's generate_from_ids does not check), so
 * split longer text first with `splitPhonemes`.
 */
export function toInputIds(ids: readonly number[]): number[] {
  if (ids.length > KOKORO_MAX_PHONEME_TOKENS) {
    throw new RangeError(`${ids.length} phoneme tokens exceed Kokoro's ${KOKORO_MAX_PHONEME_TOKENS} per call`);
  }
  return [KOKORO_PAD_ID, ...ids, KOKORO_PAD_ID];
}
