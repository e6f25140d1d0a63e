// Dates, day first as in Brazil: "25/11/2026" → "vinte e cinco de novembro de dois mil e vinte e seis".
// Day 1 is "primeiro" ("primeiro de maio"), as Brazilians say it. "d/m" with a valid day and month is taken
// as a date, so a fraction like "1/2" reads "primeiro de fevereiro": prose fractions are rare in replies.
import { cardinal } from './number-words.js';

const MONTHS = [
  'janeiro', 'fevereiro', 'março', 'abril', 'maio', 'junho',
  'julho', 'agosto', 'setembro', 'outubro', 'novembro', 'dezembro',
] as const;
// February allows 29: without a year (or before knowing it is a leap year) 29/02 is still a date.
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const DAY_MONTH_YEAR = /(?<![\d/.,])(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?(?![\d/]|[.,]\d)/g;
const ISO_DATE = /(?<![\d\-/])(\d{4})-(\d{2})-(\d{2})(?![\d\-/])/g;

/** "24/7" (always open) is an idiom, not the 24th of July. */
const IDIOMS: Readonly<Record<string, string>> = { '24/7': 'vinte e quatro por sete' };

function speakDate(day: number, month: number, year: string | undefined): string | undefined {
  const monthName = MONTHS[month - 1];
  const maxDay = DAYS_IN_MONTH[month - 1];
  if (monthName === undefined || maxDay === undefined || day < 1 || day > maxDay) return undefined;
  const dayWords = day === 1 ? 'primeiro' : cardinal(day);
  // Two-digit years are read as written: "25/11/26" → "de vinte e seis"; "05" → "de zero cinco".
  const yearWords =
    year === undefined ? '' : ` de ${year.length === 2 && year.startsWith('0') ? `zero ${cardinal(Number(year))}` : cardinal(Number(year))}`;
  return `${dayWords} de ${monthName}${yearWords}`;
}

/** "25/11/2026", "01/05", "1/5/26", "2026-11-25". Impossible dates (31/02, 13/13) are left untouched. */
export function expandDates(text: string): string {
  return text
    .replace(ISO_DATE, (match, year: string, month: string, day: string) => speakDate(Number(day), Number(month), year) ?? match)
    .replace(DAY_MONTH_YEAR, (match: string, day: string, month: string, year?: string) => {
      const idiom = IDIOMS[match];
      if (idiom !== undefined) return idiom;
      return speakDate(Number(day), Number(month), year) ?? match;
    });
}
