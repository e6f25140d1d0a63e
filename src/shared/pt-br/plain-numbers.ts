// Numbers left after the specific rules: signs, decimals and integers, read as cardinals.
// Choices: a dot that does not group thousands is read "ponto" (versions, addresses: "2.0" → "dois ponto zero");
// integers agree with a following feminine noun when it is known ("2 casas" → "duas casas", see noun-gender.ts).
import { genderOfNoun } from './noun-gender.js';
import { spellDigits } from './number-words.js';
import { INTEGER_SOURCE, NUMBER_END, NUMBER_START, readDecimal, readInteger } from './read-number.js';

// A dash between two numbers is a range or a score: "10-20" → "10 a 20", "2–1" → "2 a 1", "8h-18h".
const RANGE = /(?<=\d|\dh)(?:[-–]|\s–\s)(?=\d)/g;
// Only a sign that starts a token: "-5 °C", "(−3)", but not "COVID-19" nor the range "10-20".
const MINUS = /(^|[\s([{])[-−](?=\d)/g;
const COMMA_DECIMAL = new RegExp(String.raw`${NUMBER_START}(${INTEGER_SOURCE}),(\d+)${NUMBER_END}`, 'g');
const DOTTED = new RegExp(String.raw`${NUMBER_START}(\d+(?:\.\d+)+)${NUMBER_END}`, 'g');
const THOUSANDS = new RegExp(String.raw`^(?:${INTEGER_SOURCE})$`);
const INTEGER = new RegExp(String.raw`${NUMBER_START}(${INTEGER_SOURCE})${NUMBER_END}`, 'g');
// The noun after the number, looking past "mil" ("2 mil pessoas" → "duas mil pessoas").
const NEXT_NOUN = /^\s+(?:mil\s+)?(\p{L}+)/u;

/** "-5" → "menos 5" and "10-20" → "10 a 20", for the rules after this one to read the numbers. */
export function expandSignsAndRanges(text: string): string {
  return text.replace(RANGE, ' a ').replace(MINUS, '$1menos ');
}

/** "3,14" → "três vírgula catorze", "2.0" → "dois ponto zero", "192.168.0.1" → "… ponto … ponto …". */
export function expandDecimals(text: string): string {
  return text
    .replace(COMMA_DECIMAL, (_match, integer: string, fraction: string) => readDecimal(integer, fraction))
    .replace(DOTTED, (match: string) => {
      if (THOUSANDS.test(match)) return match; // 1.234 is one thousand two hundred…, read by expandIntegers.
      return match
        .split('.')
        .map((part) => (part.length <= 3 ? readInteger(part) : spellDigits(part)))
        .join(' ponto ');
    });
}

/**
 * "3 gatos" → "três gatos", "1.000.000" → "um milhão", "007" → "zero zero sete".
 * A number glued to letters ("MP3", "4G") is spaced from them so that each part is read on its own.
 */
export function expandIntegers(text: string): string {
  return text.replace(INTEGER, (_match, integer: string, offset: number, whole: string) => {
    const after = whole.slice(offset + integer.length);
    const noun = NEXT_NOUN.exec(after)?.[1];
    const words = readInteger(integer, noun === undefined ? 'masculine' : genderOfNoun(noun));
    const before = offset > 0 ? whole.charAt(offset - 1) : '';
    const spaceBefore = /\p{L}/u.test(before) ? ' ' : '';
    const spaceAfter = /^\p{L}/u.test(after) ? ' ' : '';
    return `${spaceBefore}${words}${spaceAfter}`;
  });
}
