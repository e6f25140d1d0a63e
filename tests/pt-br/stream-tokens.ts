// Text cut into tokens the way an LLM streams it: the space goes at the START of the next token (" Olá", ",",
// " tudo"), numbers come in pieces ("1", ".", "250", ",", "50"), long words in sub-word pieces, line breaks
// alone. Plus a seeded random cut with the same one property (a token never ends in a space before a word).
import { seededRandom } from '../support/seeded-random.js';

const TOKEN = /[^\S\n]*(?:\p{L}[\p{L}\p{M}]*|\d+|\S)|\n+|[^\S\n]+/gu;
const SUBWORD_CHARS = 4;

/** Realistic tokens: words of more than 6 letters split after every 4 (" Rowling" → " Row", "ling"). */
export function realisticTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const [token] of text.matchAll(TOKEN)) {
    const lead = /^[^\S\n]*/u.exec(token)?.[0] ?? '';
    const body = token.slice(lead.length);
    if (!/^\p{L}/u.test(body) || body.length <= 6) {
      tokens.push(token);
      continue;
    }
    for (let at = 0; at < body.length; at += SUBWORD_CHARS) {
      tokens.push((at === 0 ? lead : '') + body.slice(at, at + SUBWORD_CHARS));
    }
  }
  return tokens;
}

/** Random token lengths (1–8 code points); a cut is never made right after a space or tab. */
export function randomTokens(text: string, seed: number): string[] {
  const random = seededRandom(seed);
  const chars = Array.from(text);
  const tokens: string[] = [];
  let current = '';
  let length = 0;
  let target = 1 + Math.floor(random() * 8);
  for (const char of chars) {
    current += char;
    length += 1;
    if (length >= target && !/^[^\S\n]$/u.test(char)) {
      tokens.push(current);
      current = '';
      length = 0;
      target = 1 + Math.floor(random() * 8);
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}
