import { describe, expect, it } from 'vitest';
import { cardinal, MAX_CARDINAL, MAX_ORDINAL, ordinal, spellDigits } from '../../src/shared/pt-br/number-words.js';

describe('cardinal', () => {
  it.each<[number, string]>([
    [0, 'zero'],
    [1, 'um'],
    [14, 'catorze'],
    [16, 'dezesseis'],
    [17, 'dezessete'],
    [18, 'dezoito'],
    [19, 'dezenove'],
    [21, 'vinte e um'],
    [100, 'cem'],
    [101, 'cento e um'],
    [110, 'cento e dez'],
    [999, 'novecentos e noventa e nove'],
    [1000, 'mil'],
    [1001, 'mil e um'],
    [1100, 'mil e cem'],
    [1101, 'mil cento e um'],
    [1234, 'mil duzentos e trinta e quatro'],
    [2026, 'dois mil e vinte e seis'],
    [100_000, 'cem mil'],
    [1_000_000, 'um milhão'],
    [1_000_001, 'um milhão e um'],
    [1_001_000, 'um milhão e mil'],
    [1_200_000, 'um milhão e duzentos mil'],
    [1_234_567, 'um milhão duzentos e trinta e quatro mil quinhentos e sessenta e sete'],
    [2_000_000, 'dois milhões'],
    [1_000_000_000, 'um bilhão'],
    [2_500_000_000, 'dois bilhões e quinhentos milhões'],
  ])('%i → %s', (n, words) => {
    expect(cardinal(n)).toBe(words);
  });

  it.each<[number, string]>([
    [1, 'uma'],
    [2, 'duas'],
    [21, 'vinte e uma'],
    [200, 'duzentas'],
    [2000, 'duas mil'],
    [1_200_000, 'um milhão e duzentas mil'],
    [2_000_002, 'dois milhões e duas'],
  ])('%i in the feminine → %s (milhão stays masculine)', (n, words) => {
    expect(cardinal(n, 'feminine')).toBe(words);
  });

  it('reads the largest supported number', () => {
    expect(cardinal(MAX_CARDINAL)).toBe(
      'novecentos e noventa e nove bilhões novecentos e noventa e nove milhões ' +
        'novecentos e noventa e nove mil novecentos e noventa e nove',
    );
  });

  it.each([-1, 1.5, MAX_CARDINAL + 1, Number.NaN])('rejects %d', (n) => {
    expect(() => cardinal(n)).toThrow(RangeError);
  });
});

describe('ordinal', () => {
  it.each<[number, string, string]>([
    [1, 'primeiro', 'primeira'],
    [2, 'segundo', 'segunda'],
    [3, 'terceiro', 'terceira'],
    [10, 'décimo', 'décima'],
    [21, 'vigésimo primeiro', 'vigésima primeira'],
    [99, 'nonagésimo nono', 'nonagésima nona'],
    [100, 'centésimo', 'centésima'],
    [123, 'centésimo vigésimo terceiro', 'centésima vigésima terceira'],
    [1000, 'milésimo', 'milésima'],
    [2021, 'dois milésimo vigésimo primeiro', 'duas milésima vigésima primeira'],
  ])('%i → %s / %s', (n, masculine, feminine) => {
    expect(ordinal(n)).toBe(masculine);
    expect(ordinal(n, 'feminine')).toBe(feminine);
  });

  it.each([0, MAX_ORDINAL + 1, 2.5])('rejects %d', (n) => {
    expect(() => ordinal(n)).toThrow(RangeError);
  });
});

describe('spellDigits', () => {
  it.each<[string, string]>([
    ['0', 'zero'],
    ['007', 'zero zero sete'],
    ['0800', 'zero oito zero zero'],
    ['123', 'um dois três'],
    ['4567', 'quatro cinco seis sete'],
    ['98765', 'nove oito sete seis cinco'],
  ])('%s → %s', (digits, words) => {
    expect(spellDigits(digits)).toBe(words);
  });

  it('rejects anything but digits', () => {
    expect(() => spellDigits('12a')).toThrow(RangeError);
  });
});
