// Percentages: "15%" → "quinze por cento", "2,5%" → "dois vírgula cinco por cento".
import { AMOUNT_SOURCE, NUMBER_END, NUMBER_START, readDecimal, readInteger } from './read-number.js';

const PERCENT = new RegExp(String.raw`${NUMBER_START}${AMOUNT_SOURCE}${NUMBER_END}\s?%`, 'g');

/** "15%", "15 %", "2,5%", "100%". "por cento" is invariable, so no agreement is needed. */
export function expandPercentages(text: string): string {
  return text.replace(PERCENT, (_match, integer: string, fraction?: string) =>
    `${fraction === undefined ? readInteger(integer) : readDecimal(integer, fraction)} por cento`,
  );
}
