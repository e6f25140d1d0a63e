// Splits a phoneme string into pieces Kokoro can take in one call (≤ 510 tokens each).
//
// Kokoro's own pipeline (hexgrad/kokoro `KPipeline.waterfall_last`) cuts English at the last
// sentence end, then clause mark, then comma/dash that fits, keeping a closing ")" or "”" with the
// text before it; for espeak languages it only splits graphemes at ~400 characters and truncates
// anything left over 510. We apply the same waterfall to the phonemes themselves, so nothing is
// ever truncated, and only fall back to a space (then a hard cut) when a sentence has no mark.
import { KOKORO_MAX_PHONEME_TOKENS, KOKORO_VOCAB } from './kokoro-vocab.js';

/** Cut preferences, best first: sentence ends, then clause marks, then any space. */
const SENTENCE_ENDS: ReadonlySet<string> = new Set(['.', '!', '?', '…']);
const CLAUSE_MARKS: ReadonlySet<string> = new Set([';', ':', ',', '—']);
/** Closing marks that stay with the sentence they close (Kokoro's "bumps"). */
const CLOSERS: ReadonlySet<string> = new Set([')', '”', '"', '»']);

function isSpace(symbol: string | undefined): boolean {
  return symbol !== undefined && /^\s$/u.test(symbol);
}

/**
 * Splits `phonemes` into chunks of at most `maxTokens` tokens (Kokoro vocabulary symbols; unknown
 * symbols cost nothing because tokenizing drops them). Cuts fall on whitespace, which is dropped
 * together with leading/trailing whitespace of each chunk; every other symbol is kept, in order.
 */
export function splitPhonemes(phonemes: string, maxTokens: number = KOKORO_MAX_PHONEME_TOKENS): string[] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer (got ${maxTokens})`);
  const symbols = Array.from(phonemes); // code points, as the tokenizer sees them
  const chunks: string[] = [];
  let start = skipSpaces(symbols, 0);
  while (start < symbols.length) {
    const limit = windowEnd(symbols, start, maxTokens);
    // Always advance: `limit` is past `start` whenever maxTokens ≥ 1, but a loop must not trust that.
    const end = Math.max(start + 1, limit >= symbols.length ? symbols.length : bestCut(symbols, start, limit));
    const chunk = symbols.slice(start, end).join('').trim();
    if (chunk !== '') chunks.push(chunk);
    start = skipSpaces(symbols, end);
  }
  return chunks;
}

/** First index past the longest run from `start` that costs at most `maxTokens` tokens. */
function windowEnd(symbols: readonly string[], start: number, maxTokens: number): number {
  let tokens = 0;
  let ix = start;
  while (ix < symbols.length) {
    const cost = KOKORO_VOCAB.has(symbols[ix] ?? '') ? 1 : 0;
    if (tokens + cost > maxTokens) break;
    tokens += cost;
    ix++;
  }
  return ix;
}

/**
 * Where to end a chunk that must stop at or before `limit` (< symbols.length): at a space whose
 * left side is a sentence end (closers skipped), else a clause mark, else any space, else `limit`
 * (a single "word" longer than the window: nothing better exists).
 */
function bestCut(symbols: readonly string[], start: number, limit: number): number {
  let clauseCut = -1;
  let spaceCut = -1;
  // A cut at `ix` keeps symbols[start, ix) and needs symbols[ix] to be whitespace.
  for (let ix = limit; ix > start; ix--) {
    if (!isSpace(symbols[ix])) continue;
    const mark = markBefore(symbols, start, ix);
    if (mark !== undefined && SENTENCE_ENDS.has(mark)) return ix;
    if (clauseCut < 0 && mark !== undefined && CLAUSE_MARKS.has(mark)) clauseCut = ix;
    if (spaceCut < 0 && !isSpace(symbols[ix - 1])) spaceCut = ix;
  }
  if (clauseCut > start) return clauseCut;
  if (spaceCut > start) return spaceCut;
  return limit;
}

/** The last symbol before `ix`, looking through closing quotes/brackets. */
function markBefore(symbols: readonly string[], start: number, ix: number): string | undefined {
  let jx = ix - 1;
  while (jx > start && CLOSERS.has(symbols[jx] ?? '')) jx--;
  return symbols[jx];
}

function skipSpaces(symbols: readonly string[], from: number): number {
  let ix = from;
  while (ix < symbols.length && isSpace(symbols[ix])) ix++;
  return ix;
}
