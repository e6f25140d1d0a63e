// Ordinal indicators: "3º" → "terceiro", "2ª" → "segunda", "21º" → "vigésimo primeiro".
// "°" (the degree sign, often typed for º) is an ordinal only right after a number and before a word
// ("1° lugar"); otherwise it is degrees ("30°" → "trinta graus"). "20 °C" was read by the unit rule already.
// Letter forms ("1o", "2a") are not expanded: "2a" is as likely a typo or a code as an ordinal.
import { MAX_ORDINAL, ordinal } from './number-words.js';
import { INTEGER_SOURCE, NUMBER_START, parseBrInteger, readInteger, takesSingular } from './read-number.js';

const ORDINAL = new RegExp(String.raw`${NUMBER_START}(${INTEGER_SOURCE})\.?([ºª]|°(?=\s+\p{L}))`, 'gu');
const DEGREES = new RegExp(String.raw`${NUMBER_START}(${INTEGER_SOURCE})°`, 'g');

/** "1º", "1.º", "2ª", "100º", "1° lugar"; a lone "30°" becomes "trinta graus". */
export function expandOrdinals(text: string): string {
  return text
    .replace(ORDINAL, (match, integer: string, indicator: string) => {
      const n = parseBrInteger(integer);
      if (n < 1 || n > MAX_ORDINAL) return match;
      return ordinal(n, indicator === 'ª' ? 'feminine' : 'masculine');
    })
    .replace(DEGREES, (_match, integer: string) => `${readInteger(integer)} ${takesSingular(integer) ? 'grau' : 'graus'}`);
}
