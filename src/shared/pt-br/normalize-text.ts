// Rewrites text the way a Brazilian reads it aloud, before espeak-ng (pt-br) phonemises it for Kokoro:
// "R$ 3,50 às 14h" → "três reais e cinquenta centavos às catorze horas".
// Each rule is a pure string → string function. Order matters: the specific shapes (identifiers, phone, money,
// date, time, unit, %) are read before the generic number rules would split them, and acronyms come last so that unit
// symbols ("2 GB") are read as units, not spelled. Punctuation is kept for prosody,
// ordinary words are untouched, and the output has no digits or symbols left for a second pass to change.
import { expandAbbreviations } from './abbreviations.js';
import { expandAcronyms } from './acronyms.js';
import { expandDates } from './dates.js';
import { expandIdentifiers } from './identifiers.js';
import { expandMoney } from './money.js';
import { expandOrdinals } from './ordinals.js';
import { expandPercentages } from './percentages.js';
import { expandPhoneNumbers } from './phone.js';
import { expandDecimals, expandIntegers, expandSignsAndRanges } from './plain-numbers.js';
import { expandRomanNumerals } from './roman-numerals.js';
import { expandTimes } from './times.js';
import { expandUnits } from './units.js';

export interface NormalizeRule {
  readonly name: string;
  readonly apply: (text: string) => string;
}

export const PT_BR_RULES: readonly NormalizeRule[] = [
  // First, so that "nº" is not an ordinal and the period of "Sr." not a decimal point.
  { name: 'abbreviations', apply: expandAbbreviations },
  // After abbreviations ("pedido nº 12345678" → "pedido número …"), before the rules that would read a CPF's
  // groups as thousands, its dash as a range, a CEP or a card number as a phone or one big number.
  { name: 'identifiers', apply: expandIdentifiers },
  { name: 'phone numbers', apply: expandPhoneNumbers },
  { name: 'money', apply: expandMoney },
  { name: 'dates', apply: expandDates },
  // After dates (2026-11-25) and phones (+55), before the rules that read the numbers around the dash.
  { name: 'signs and ranges', apply: expandSignsAndRanges },
  { name: 'times', apply: expandTimes },
  { name: 'units', apply: expandUnits },
  { name: 'percentages', apply: expandPercentages },
  { name: 'ordinals', apply: expandOrdinals },
  { name: 'decimals', apply: expandDecimals },
  { name: 'integers', apply: expandIntegers },
  { name: 'roman numerals', apply: expandRomanNumerals },
  { name: 'acronyms', apply: expandAcronyms },
];

/** Brazilian Portuguese text as it is spoken: numbers, money, dates, times, units, abbreviations, acronyms. */
export function normalizePtBr(text: string): string {
  return PT_BR_RULES.reduce((current, rule) => rule.apply(current), text);
}
