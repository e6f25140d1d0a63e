// How numbers are written in Brazil (1.234.567,89) and how to read such a written number aloud.
import { cardinal, MAX_CARDINAL, spellDigits } from './number-words.js';
import type { Gender } from './number-words.js';

/** An integer as written in Brazil: "1234", or with dots between groups of three: "1.234.567". */
export const INTEGER_SOURCE = String.raw`\d{1,3}(?:\.\d{3})+|\d+`;

/**
 * A measured amount (before a unit or %): an integer, then maybe a decimal part after a comma, or after a dot that
 * does not group thousands ("2.5%" from English-style text). Groups: whole part, decimal digits.
 */
export const AMOUNT_SOURCE = String.raw`(${INTEGER_SOURCE})(?:[.,](\d+))?`;

/** No digit (nor "digit," / "digit.") right before the number: keeps rules from starting mid-number. */
export const NUMBER_START = String.raw`(?<!\d|\d[.,])`;

/** No digit (nor ",digit" / ".digit") right after the number: keeps rules from stopping mid-number. */
export const NUMBER_END = String.raw`(?!\d|[.,]\d)`;

/** "1.234" → 1234. */
export function parseBrInteger(written: string): number {
  return Number(written.replace(/\./g, ''));
}

/**
 * A written integer in words. Numbers with a leading zero ("007") or beyond the cardinal range are codes,
 * so they are read digit by digit.
 */
export function readInteger(written: string, gender: Gender = 'masculine'): string {
  const digits = written.replace(/\./g, '');
  const value = Number(digits);
  if ((digits.length > 1 && digits.startsWith('0')) || value > MAX_CARDINAL) return spellDigits(digits);
  return cardinal(value, gender);
}

/**
 * Digits after the decimal comma: leading zeros one by one, then the rest as a number while it has at most
 * three digits ("3,05" → "zero cinco", "3,14" → "catorze"), else digit by digit ("3,14159").
 */
export function readFraction(digits: string): string {
  const zeros = /^0*/.exec(digits)?.[0] ?? '';
  const rest = digits.slice(zeros.length);
  const words: string[] = zeros === '' ? [] : [spellDigits(zeros)];
  if (rest !== '') words.push(rest.length <= 3 ? cardinal(Number(rest)) : spellDigits(rest));
  return words.join(' ');
}

/** "3" + "14" → "três vírgula catorze". Gender applies to the whole part only: "duas vírgula cinco horas". */
export function readDecimal(integerWritten: string, fractionDigits: string, gender: Gender = 'masculine'): string {
  return `${readInteger(integerWritten, gender)} vírgula ${readFraction(fractionDigits)}`;
}

/** Portuguese puts the noun in the singular when the whole part is 1 (1 km, 1,5 litro), else in the plural. */
export function takesSingular(integerWritten: string): boolean {
  return parseBrInteger(integerWritten) === 1;
}
