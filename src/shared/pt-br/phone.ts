// Brazilian phone numbers, read the way people dictate them: "(11) 98765-4321" →
// "onze, nove oito sete seis cinco, quatro três dois um".
// Choices: the DDD (area code) and the country code are read as numbers ("onze", "mais cinquenta e cinco"),
// as in "DDD onze"; 0800/0300/0500/0900 prefixes are read "zero oitocentos"; the subscriber number is read
// digit by digit ("seis", not the colloquial "meia", which TTS listeners mishear), one comma per group so
// the phonemiser pauses there.
import { cardinal, spellDigits } from './number-words.js';

const COUNTRY = String.raw`(?:\+(55)\s?)?`;
const AREA = String.raw`(?:\((\d{2})\)\s?|(\d{2})[\s-])`;
// A mobile number (9 digits, starting with 9) may come without DDD; an 8-digit landline only with one,
// since "1990-2000" is far more often a range of years than a phone number.
const MOBILE = new RegExp(String.raw`(?<![\d+\p{L}])${COUNTRY}${AREA}?(9\d{4})[\s-](\d{4})(?![\d\p{L}])`, 'gu');
const LANDLINE = new RegExp(String.raw`(?<![\d+\p{L}])${COUNTRY}${AREA}([2-5]\d{3})[\s-](\d{4})(?![\d\p{L}])`, 'gu');
const NON_GEOGRAPHIC = /(?<![\d\p{L}])0([3589])00[\s-]?(\d{3})[\s-]?(\d{4})(?![\d\p{L}])/gu;

function speakSubscriber(
  country: string | undefined,
  areaInParens: string | undefined,
  area: string | undefined,
  first: string,
  last: string,
): string {
  const parts: string[] = [];
  if (country !== undefined) parts.push(`mais ${cardinal(Number(country))}`);
  const ddd = areaInParens ?? area;
  if (ddd !== undefined) parts.push(cardinal(Number(ddd)));
  parts.push(spellDigits(first), spellDigits(last));
  return parts.join(', ');
}

/** "(11) 98765-4321", "11 98765-4321", "+55 11 3456-7890", "98765-4321", "0800 123 4567". */
export function expandPhoneNumbers(text: string): string {
  const spoken = (_match: string, country?: string, areaInParens?: string, area?: string, first = '', last = ''): string =>
    speakSubscriber(country, areaInParens, area, first, last);
  return text
    .replace(NON_GEOGRAPHIC, (_match, prefix: string, middle: string, last: string) =>
      [`zero ${cardinal(Number(prefix) * 100)}`, spellDigits(middle), spellDigits(last)].join(', '),
    )
    .replace(MOBILE, spoken)
    .replace(LANDLINE, spoken);
}
