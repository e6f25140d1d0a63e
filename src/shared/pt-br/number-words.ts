// Brazilian Portuguese number words: cardinals (0 … 999 999 999 999) and ordinals (1 … 999 999), with gender.
// Spelling choice: 14 is "catorze". Both "catorze" and "quatorze" are correct in Brazil; "catorze" is the
// form espeak-ng pt-br and the VOLP list first, and one fixed form keeps the output (and its tests) stable.

export type Gender = 'masculine' | 'feminine';

export const MAX_CARDINAL = 999_999_999_999;
export const MAX_ORDINAL = 999_999;

const BELOW_TWENTY = [
  'zero', 'um', 'dois', 'três', 'quatro', 'cinco', 'seis', 'sete', 'oito', 'nove',
  'dez', 'onze', 'doze', 'treze', 'catorze', 'quinze', 'dezesseis', 'dezessete', 'dezoito', 'dezenove',
] as const;
const TENS = ['', '', 'vinte', 'trinta', 'quarenta', 'cinquenta', 'sessenta', 'setenta', 'oitenta', 'noventa'] as const;
const HUNDREDS = [
  '', 'cento', 'duzentos', 'trezentos', 'quatrocentos', 'quinhentos', 'seiscentos', 'setecentos', 'oitocentos', 'novecentos',
] as const;
const DIGITS = BELOW_TWENTY.slice(0, 10);

const ORDINAL_UNITS = ['', 'primeiro', 'segundo', 'terceiro', 'quarto', 'quinto', 'sexto', 'sétimo', 'oitavo', 'nono'] as const;
const ORDINAL_TENS = [
  '', 'décimo', 'vigésimo', 'trigésimo', 'quadragésimo', 'quinquagésimo', 'sexagésimo', 'septuagésimo', 'octogésimo', 'nonagésimo',
] as const;
const ORDINAL_HUNDREDS = [
  '', 'centésimo', 'ducentésimo', 'tricentésimo', 'quadringentésimo', 'quingentésimo',
  'sexcentésimo', 'septingentésimo', 'octingentésimo', 'nongentésimo',
] as const;

function pick(words: readonly string[], index: number): string {
  const word = words[index];
  if (word === undefined) throw new RangeError(`no word at index ${index}`);
  return word;
}

function assertWholeInRange(n: number, min: number, max: number): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`${n} is not a whole number in ${min} … ${max}`);
  }
}

/** Only um/dois and the hundreds from 200 change with gender (uma, duas, duzentas); the rest is invariable. */
function unitWord(n: number, gender: Gender): string {
  if (gender === 'feminine' && n === 1) return 'uma';
  if (gender === 'feminine' && n === 2) return 'duas';
  return pick(BELOW_TWENTY, n);
}

function belowHundred(n: number, gender: Gender): string {
  if (n < 20) return unitWord(n, gender);
  const tens = pick(TENS, Math.floor(n / 10));
  const unit = n % 10;
  return unit === 0 ? tens : `${tens} e ${unitWord(unit, gender)}`;
}

function belowThousand(n: number, gender: Gender): string {
  if (n === 100) return 'cem';
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const parts: string[] = [];
  if (hundreds > 0) {
    const word = pick(HUNDREDS, hundreds);
    parts.push(gender === 'feminine' && hundreds > 1 ? word.replace(/os$/, 'as') : word);
  }
  if (rest > 0 || hundreds === 0) parts.push(belowHundred(rest, gender));
  // Inside a group every part is joined by "e": cento e vinte e três.
  return parts.join(' e ');
}

interface Group {
  readonly value: number;
  readonly words: string;
}

function scaleGroup(count: number, singular: string, plural: string): string {
  // milhão and bilhão are masculine nouns: "duas mil pessoas" but "dois milhões de pessoas".
  return count === 1 ? `um ${singular}` : `${belowThousand(count, 'masculine')} ${plural}`;
}

/**
 * Cardinal in words: 1234 → "mil duzentos e trinta e quatro", 2 (feminine) → "duas".
 * Groups are joined by a space, except that "e" comes before the last group when it is below 100 or a round
 * hundred (mil e um, mil e cem, um milhão e duzentos mil), as Brazilians say it.
 */
export function cardinal(n: number, gender: Gender = 'masculine'): string {
  assertWholeInRange(n, 0, MAX_CARDINAL);
  if (n === 0) return 'zero';
  const billions = Math.floor(n / 1e9);
  const millions = Math.floor(n / 1e6) % 1000;
  const thousands = Math.floor(n / 1e3) % 1000;
  const units = n % 1000;
  const groups: Group[] = [];
  if (billions > 0) groups.push({ value: billions, words: scaleGroup(billions, 'bilhão', 'bilhões') });
  if (millions > 0) groups.push({ value: millions, words: scaleGroup(millions, 'milhão', 'milhões') });
  if (thousands > 0) {
    groups.push({ value: thousands, words: thousands === 1 ? 'mil' : `${belowThousand(thousands, gender)} mil` });
  }
  if (units > 0) groups.push({ value: units, words: belowThousand(units, gender) });

  return groups
    .map((group, i) => {
      if (i === 0) return group.words;
      const isLast = i === groups.length - 1;
      const joinsWithE = isLast && (group.value < 100 || group.value % 100 === 0);
      return `${joinsWithE ? ' e ' : ' '}${group.words}`;
    })
    .join('');
}

function ordinalBelowThousand(n: number): string[] {
  const words: string[] = [];
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor(n / 10) % 10;
  const units = n % 10;
  if (hundreds > 0) words.push(pick(ORDINAL_HUNDREDS, hundreds));
  if (tens > 0) words.push(pick(ORDINAL_TENS, tens));
  if (units > 0) words.push(pick(ORDINAL_UNITS, units));
  return words;
}

/**
 * Ordinal in words: 21 → "vigésimo primeiro", 2 (feminine) → "segunda", 1000 → "milésimo".
 * Thousands above one take the cardinal as prefix ("dois milésimo"), the usual Brazilian reading.
 */
export function ordinal(n: number, gender: Gender = 'masculine'): string {
  assertWholeInRange(n, 1, MAX_ORDINAL);
  const thousands = Math.floor(n / 1000);
  const words: string[] = [];
  if (thousands >= 1) words.push('milésimo');
  words.push(...ordinalBelowThousand(n % 1000));
  // Every ordinal word ends in -o and agrees with the noun: vigésima primeira.
  const agreed = gender === 'feminine' ? words.map((w) => w.replace(/o$/, 'a')) : words;
  const prefix = thousands > 1 ? `${cardinal(thousands, gender)} ` : '';
  return prefix + agreed.join(' ');
}

/** Digits one by one: "0800" → "zero oito zero zero". */
export function spellDigits(digits: string): string {
  if (!/^\d+$/.test(digits)) throw new RangeError(`"${digits}" is not a string of digits`);
  return [...digits].map((d) => pick(DIGITS, Number(d))).join(' ');
}
