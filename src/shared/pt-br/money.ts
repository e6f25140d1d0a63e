// Money: "R$ 3,50" → "três reais e cinquenta centavos", the way a Brazilian reads a price.
import { cardinal, MAX_CARDINAL } from './number-words.js';
import { INTEGER_SOURCE, NUMBER_END, parseBrInteger, readDecimal, readInteger } from './read-number.js';

interface Currency {
  readonly singular: string;
  readonly plural: string;
}

// Brazilians call the hundredth of the dollar and of the euro "centavo" too.
const CURRENCIES: Readonly<Record<string, Currency>> = {
  'R$': { singular: 'real', plural: 'reais' },
  'US$': { singular: 'dólar', plural: 'dólares' },
  'U$': { singular: 'dólar', plural: 'dólares' },
  $: { singular: 'dólar', plural: 'dólares' },
  '€': { singular: 'euro', plural: 'euros' },
};

/** Zeros each scale word stands for. */
const SCALE_ZEROS: Readonly<Record<string, number>> = {
  mil: 3,
  'milhão': 6,
  'milhões': 6,
  'bilhão': 9,
  'bilhões': 9,
};

const MONEY = new RegExp(
  String.raw`(?<![\p{L}\d$])(R\$|US\$|U\$|\$|€)\s?(${INTEGER_SOURCE})(?:,(\d+))?${NUMBER_END}` +
    String.raw`(?:\s(mil|milhão|milhões|bilhão|bilhões)(?![\p{L}\d]))?`,
  'gu',
);

function countOf(n: number, currency: Currency): string {
  return `${cardinal(n)} ${n === 1 ? currency.singular : currency.plural}`;
}

/** Whole units and cents in words; "de" comes before the currency after a round milhão/bilhão. */
function speakAmount(whole: number, cents: number, currency: Currency): string {
  const centsWords = `${cardinal(cents)} ${cents === 1 ? 'centavo' : 'centavos'}`;
  if (whole === 0) return cents === 0 ? `zero ${currency.plural}` : centsWords;
  const roundMillions = whole % 1e6 === 0;
  const wholeWords = roundMillions ? `${cardinal(whole)} de ${currency.plural}` : countOf(whole, currency);
  return cents === 0 ? wholeWords : `${wholeWords} e ${centsWords}`;
}

/** Fallback for amounts with no exact reading ("R$ 10,999"): the number as written, then the currency. */
function speakAsWritten(integer: string, fraction: string, scaleWord: string | undefined, currency: Currency): string {
  const number = fraction === '' ? readInteger(integer) : readDecimal(integer, fraction);
  if (scaleWord === undefined) return `${number} ${currency.plural}`;
  return `${number} ${scaleWord} ${scaleWord === 'mil' ? '' : 'de '}${currency.plural}`;
}

/**
 * "R$ 1.234,56", "US$ 10", "€ 5", "R$ 2 milhões", "R$ 1,5 milhão". With a scale word the exact amount is read
 * ("um milhão e quinhentos mil reais").
 */
export function expandMoney(text: string): string {
  return text.replace(MONEY, (match, symbol: string, integer: string, fraction?: string, scaleWord?: string) => {
    const currency = CURRENCIES[symbol];
    if (currency === undefined) return match;
    const zeros = scaleWord === undefined ? 0 : (SCALE_ZEROS[scaleWord] ?? 0);
    const fractionDigits = fraction ?? '';
    // Without a scale word only cents (one or two digits) make sense: "R$ 3,5" is R$ 3,50.
    const maxFractionDigits = zeros === 0 ? 2 : zeros;
    // With a scale word the decimals are part of the whole amount: 1,5 milhão = 1 500 000.
    const scaledPart = zeros === 0 ? 0 : Number(fractionDigits.padEnd(zeros, '0'));
    const whole = parseBrInteger(integer) * 10 ** zeros + scaledPart;
    if (fractionDigits.length > maxFractionDigits || whole > MAX_CARDINAL) {
      return speakAsWritten(integer, fractionDigits, scaleWord, currency);
    }
    const cents = zeros === 0 ? Number(fractionDigits.padEnd(2, '0')) : 0;
    return speakAmount(whole, cents, currency);
  });
}
