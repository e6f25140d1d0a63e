// The sentence segmenter under arbitrary text (fast-check): the same sentences whether the reply
// comes whole or token by token, and nothing of the text lost, moved or invented.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentenceSegmenter, splitSentences } from '../../src/shared/pt-br/sentence-segmenter.js';

/** Characters that steer the segmenter, plus letters of both cases, digits and look-alikes. */
const PIECES = [
  'a', 'b', 'Z', 'é', 'Ç', 'x', '1', '2', '0', ' ', ' ', ' ', '\n', '\n\n', '\t', '.', '...', '…', '!', '?', '?!', ',', ';', ':', '-', '—',
  '"', "'", '“', '”', '«', '»', '(', ')', '[', ']', '*', '_', '~', '`', '```', 'Sr.', 'Dr.', 'etc.', 'J.', 'vs.', 'www.x.com.br', '3.14',
  '1.', 'IV.', 'a.', '😊', '\u00a0', '\u200b', 'а', // Cyrillic a
];

const text = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

/** Tokens as an LLM streams them: any cut points, except right after a space or tab (the space starts the next token). */
function tokensOf(value: string, cuts: number[]): string[] {
  const chars = Array.from(value);
  const at = new Set(cuts.map((c) => c % (chars.length + 1)).filter((c) => c > 0 && c < chars.length && !/^[^\S\n]$/u.test(chars[c - 1] ?? '')));
  const tokens: string[] = [];
  let current = '';
  chars.forEach((char, i) => {
    if (at.has(i)) {
      tokens.push(current);
      current = '';
    }
    current += char;
  });
  if (current !== '') tokens.push(current);
  return tokens;
}

function pushed(tokens: readonly string[], maxChars?: number): string[] {
  const segmenter = new SentenceSegmenter(maxChars === undefined ? {} : { maxChars });
  return [...tokens.flatMap((t) => segmenter.push(t)), ...segmenter.end()];
}

const visible = (s: string) => s.replace(/\s/gu, '');

describe('the sentence segmenter on arbitrary text', () => {
  it('gives the same sentences whole and token by token', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 40 }), fc.option(fc.integer({ min: 10, max: 300 }), { nil: undefined }), (value, cuts, maxChars) => {
        const options = maxChars === undefined ? {} : { maxChars };
        expect(pushed(tokensOf(value, cuts), maxChars)).toEqual(splitSentences(value, options));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every non-space character, in order, and returns no empty sentence', () => {
    fc.assert(
      fc.property(text, fc.option(fc.integer({ min: 10, max: 300 }), { nil: undefined }), (value, maxChars) => {
        const sentences = splitSentences(value, maxChars === undefined ? {} : { maxChars });
        expect(visible(sentences.join(''))).toBe(visible(value));
        for (const s of sentences) expect(s.trim()).not.toBe('');
      }),
      { numRuns: 2000 },
    );
  });
});
