// Roman numerals (II … XXXIX) as Brazilians read them: up to ten as ordinals ("Dom Pedro II" → "segundo",
// "século V" → "quinto"), above ten as cardinals ("século XXI" → "vinte e um", "Bento XVI" → "dezesseis").
// They run before the acronym rule, which would otherwise spell "XXI" letter by letter. Single letters
// (I, V, X) are left alone: "Geração X" is not the tenth generation.
import { KNOWN_ACRONYMS } from './acronyms.js';
import { cardinal, ordinal } from './number-words.js';
import { isShouted, mapSentences } from './sentences.js';

const ROMAN_TOKEN = /(?<![\p{L}\d])([IVX]{2,})(?![\p{L}\d])/gu;
const VALID = /^(X{0,3})(IX|IV|V?I{0,3})$/;
const VALUES: Readonly<Record<string, number>> = { I: 1, V: 5, X: 10 };

/** Value of a well-formed numeral below 40, else undefined ("IIII", "VX"). */
export function romanValue(numeral: string): number | undefined {
  if (!VALID.test(numeral)) return undefined;
  let total = 0;
  for (let i = 0; i < numeral.length; i++) {
    const value = VALUES[numeral.charAt(i)] ?? 0;
    const next = VALUES[numeral.charAt(i + 1)] ?? 0;
    total += value < next ? -value : value;
  }
  return total;
}

function expandInSentence(sentence: string): string {
  return sentence.replace(ROMAN_TOKEN, (match, numeral: string) => {
    const value = romanValue(numeral);
    if (value === undefined) return match;
    return value <= 10 ? ordinal(value) : cardinal(value);
  });
}

/** "Dom Pedro II", "século XXI". Shouted sentences are skipped: there "VI" is the verb, not six. */
export function expandRomanNumerals(text: string): string {
  return mapSentences(text, (sentence) => (isShouted(sentence, KNOWN_ACRONYMS) ? sentence : expandInSentence(sentence)));
}
