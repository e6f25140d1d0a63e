import { describe, expect, it } from 'vitest';
import { codeGroups, expandIdentifiers } from '../../src/shared/pt-br/identifiers.js';
import { normalizePtBr, PT_BR_RULES } from '../../src/shared/pt-br/normalize-text.js';

type Row = [input: string, spoken: string];

// Choice: dotted groups as numbers (leading zeros as "zero"), check digits digit by digit after "traço".
const CPF: Row[] = [
  ['123.456.789-00', 'cento e vinte e três, quatrocentos e cinquenta e seis, setecentos e oitenta e nove, traço zero zero'],
  ['Meu CPF é 123.456.789-09.', 'Meu cê pê efe é cento e vinte e três, quatrocentos e cinquenta e seis, setecentos e oitenta e nove, traço zero nove.'],
  ['012.000.100-47', 'zero doze, zero zero zero, cem, traço quatro sete'],
  ['007.080.901-10', 'zero zero sete, zero oitenta, novecentos e um, traço um zero'],
  ['CPF 12345678900', 'cê pê efe cento e vinte e três, quatrocentos e cinquenta e seis, setecentos e oitenta e nove, traço zero zero'],
  ['CPF: 98765432100', 'cê pê efe: novecentos e oitenta e sete, seiscentos e cinquenta e quatro, trezentos e vinte e um, traço zero zero'],
];

// Choice: the branch after the slash digit by digit ("barra zero zero zero um"), as it is dictated.
const CNPJ: Row[] = [
  ['12.345.678/0001-90', 'doze, trezentos e quarenta e cinco, seiscentos e setenta e oito, barra zero zero zero um, traço nove zero'],
  ['CNPJ 01.002.003/0004-05', 'cê ene pê jota zero um, zero zero dois, zero zero três, barra zero zero zero quatro, traço zero cinco'],
  ['CNPJ: 12345678000190', 'cê ene pê jota: doze, trezentos e quarenta e cinco, seiscentos e setenta e oito, barra zero zero zero um, traço nove zero'],
];

// Choice: a CEP digit by digit, both parts.
const CEP: Row[] = [
  ['01310-100', 'zero um três um zero, traço um zero zero'],
  ['CEP 04538-133.', 'cep zero quatro cinco três oito, traço um três três.'],
  ['CEP: 01.310-100', 'cep: zero um três um zero, traço um zero zero'],
  ['CEP 20040020', 'cep dois zero zero quatro zero, traço zero dois zero'],
];

// Choice: digit by digit in the written groups, a comma between groups.
const CARDS: Row[] = [
  ['4111 1111 1111 1111', 'quatro um um um, um um um um, um um um um, um um um um'],
  ['5500-0000-0000-0004', 'cinco cinco zero zero, zero zero zero zero, zero zero zero zero, zero zero zero quatro'],
  ['3782 822463 10005', 'três sete oito dois, oito dois dois quatro seis três, um zero zero zero cinco'],
  ['cartão 6062825624254001', 'cartão seis zero seis dois, oito dois cinco seis, dois quatro dois cinco, quatro zero zero um'],
];

// Choice: 8 or more digits after a keyword, digit by digit in groups of 3 or 4 (as even as can be).
const CODES: Row[] = [
  ['Pedido nº 12345678 confirmado.', 'Pedido número um dois três quatro, cinco seis sete oito confirmado.'],
  ['protocolo: 1234567890', 'protocolo: um dois três quatro, cinco seis sete, oito nove zero'],
  ['O número do seu pedido é #2026123456789.', 'O número do seu pedido é dois zero dois seis, um dois três, quatro cinco seis, sete oito nove.'],
  ['Anote o protocolo de atendimento 987654321.', 'Anote o protocolo de atendimento nove oito sete, seis cinco quatro, três dois um.'],
  ['código de rastreio 00112233', 'código de rastreio zero zero um um, dois dois três três'],
  ['n.º 123456789012', 'número um dois três quatro, cinco seis sete oito, nove zero um dois'],
];

// What the identifier rule leaves to the others.
const NOT_IDENTIFIERS: Row[] = [
  ['pedido 1234567', 'pedido um milhão duzentos e trinta e quatro mil quinhentos e sessenta e sete'],
  ['Nos anos 2020 2021 2022 2023', 'Nos anos dois mil e vinte dois mil e vinte e um dois mil e vinte e dois dois mil e vinte e três'],
  ['(11) 98765-4321', 'onze, nove oito sete seis cinco, quatro três dois um'],
  ['1.234.567', 'um milhão duzentos e trinta e quatro mil quinhentos e sessenta e sete'],
  ['12345678', 'doze milhões trezentos e quarenta e cinco mil seiscentos e setenta e oito'],
  ['de 10000-20000 itens', 'de dez mil a vinte mil itens'],
];

const CLASSES: [string, Row[]][] = [
  ['CPF', CPF],
  ['CNPJ', CNPJ],
  ['CEP', CEP],
  ['card numbers', CARDS],
  ['order and protocol numbers', CODES],
  ['numbers that are not identifiers', NOT_IDENTIFIERS],
];

describe.each(CLASSES)('normalizePtBr: %s', (_name, rows) => {
  it.each(rows)('%s → %s', (input, spoken) => {
    expect(normalizePtBr(input)).toBe(spoken);
  });

  it.each(rows)('is idempotent on what it makes of %s', (input) => {
    const once = normalizePtBr(input);
    expect(normalizePtBr(once)).toBe(once);
    expect(once).not.toMatch(/\d/);
  });
});

describe('expandIdentifiers', () => {
  it('splits a long code into groups of three or four, the longer ones first', () => {
    expect(codeGroups('12345678').map((g) => g.length)).toEqual([4, 4]);
    expect(codeGroups('123456789').map((g) => g.length)).toEqual([3, 3, 3]);
    expect(codeGroups('1234567890').map((g) => g.length)).toEqual([4, 3, 3]);
    expect(codeGroups('1234567890123').map((g) => g.length)).toEqual([4, 3, 3, 3]);
    expect(codeGroups('1234567890123456').join('')).toBe('1234567890123456');
  });

  it('leaves text without identifiers as it is', () => {
    const text = 'Ligue amanhã, 25/11, entre 9h e 18h: custa R$ 3,50.';
    expect(expandIdentifiers(text)).toBe(text);
  });

  it('runs after abbreviations and before phone numbers, money and plain numbers', () => {
    const names = PT_BR_RULES.map((rule) => rule.name);
    const at = names.indexOf('identifiers');
    expect(at).toBeGreaterThan(names.indexOf('abbreviations'));
    for (const later of ['phone numbers', 'money', 'signs and ranges', 'decimals', 'integers']) {
      expect(at).toBeLessThan(names.indexOf(later));
    }
  });
});
