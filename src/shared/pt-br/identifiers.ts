// Brazilian identifiers read in the groups they are written and dictated in, never as one big number:
// "CPF 123.456.789-00" → "cento e vinte e três, quatrocentos e cinquenta e seis, setecentos e oitenta e nove,
// traço zero zero".
// Choices, one rule for every identifier:
// - a group between dots is read as a number, its leading zeros first as "zero" ("012" → "zero doze",
//   "000" → "zero zero zero"), as Brazilians dictate a CPF or CNPJ;
// - what comes after the dash (check digits, the last three of a CEP) and the CNPJ branch after the slash
//   ("0001") are read digit by digit, each after a comma and the word for its sign: "traço", "barra";
// - a CEP is read digit by digit ("01310-100" → "zero um três um zero, traço um zero zero"): it is a code, and
//   "um milhão…" or "cento e trinta e um mil…" would be wrong for both parts;
// - a card number, digit by digit in its written groups of four (Amex: 4-6-5), a comma between groups;
// - a code of 8 or more digits after "pedido", "protocolo", "número" (also "nº", read "número" first) and the
//   like: digit by digit in groups of three or four, a comma between groups, so that it can be written down.
// The same numbers without their punctuation are read alike after "CPF", "CNPJ" or "CEP".
import { cardinal, spellDigits } from './number-words.js';

const NOT_AFTER_NUMBER = String.raw`(?<![\d.,/-])`;
const NOT_BEFORE_NUMBER = String.raw`(?![\d\p{L}]|[.,/-]\d)`;

function identifier(source: string): RegExp {
  return new RegExp(`${NOT_AFTER_NUMBER}${source}${NOT_BEFORE_NUMBER}`, 'gu');
}

const CPF = identifier(String.raw`(\d{3})\.(\d{3})\.(\d{3})-(\d{2})`);
const CNPJ = identifier(String.raw`(\d{2})\.(\d{3})\.(\d{3})\/(\d{4})-(\d{2})`);
const CEP = identifier(String.raw`(\d{2}\.?\d{3})-(\d{3})`);
// Cards start with 3–6 (Amex, Diners, Visa, Mastercard, Elo, Hipercard): "2020 2021 2022 2023" is years.
const CARD = identifier(String.raw`([3-6]\d{3})([ -])(\d{4})\2(\d{4})\2(\d{4})`);
const AMEX = identifier(String.raw`(3\d{3})([ -])(\d{6})\2(\d{5})`);

/** Words that may stand between a keyword and its number: "o número do seu pedido é 12345678". */
const FILLERS = ['é', 'foi', 'do', 'da', 'de', 'o', 'a', 'seu', 'sua', 'meu', 'minha', 'atendimento', 'fiscal'];
/** What a long code follows ("nº" is "número" by now: abbreviations run first). */
const CODE_KEYWORDS = [
  'pedido', 'protocolo', 'número', 'numero', 'código', 'codigo', 'rastreio', 'rastreamento', 'chamado',
  'ocorrência', 'matrícula', 'ticket', 'localizador', 'boleto', 'nota', 'fatura', 'cartão', 'conta',
];

/** `keywords`, then any fillers or keywords, then the separators before a number. */
function afterKeyword(keywords: readonly string[]): string {
  const word = (words: readonly string[]): string => String.raw`(?<!\p{L})(?:${words.join('|')})(?!\p{L})`;
  return String.raw`(?<=${word(keywords)}(?:[\s:]*${word([...keywords, ...FILLERS])})*[\s:]*)`;
}

function keyed(keywords: readonly string[], digits: string): RegExp {
  return new RegExp(`${afterKeyword(keywords)}#?(${digits})${NOT_BEFORE_NUMBER}`, 'giu');
}

const BARE_CPF = keyed(['CPF'], String.raw`\d{11}`);
const BARE_CNPJ = keyed(['CNPJ'], String.raw`\d{14}`);
const BARE_CEP = keyed(['CEP'], String.raw`\d{8}`);
const LONG_CODE = keyed(CODE_KEYWORDS, String.raw`\d{8,}`);

/** A dotted group: leading zeros as "zero", the rest as a number ("012" → "zero doze"). */
function readGroup(digits: string): string {
  const zeros = /^0*/.exec(digits)?.[0] ?? '';
  if (zeros.length === digits.length) return spellDigits(digits);
  const rest = cardinal(Number(digits.slice(zeros.length)));
  return zeros === '' ? rest : `${spellDigits(zeros)} ${rest}`;
}

function readCpf(digits: string): string {
  const groups = [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6, 9)].map(readGroup);
  return `${groups.join(', ')}, traço ${spellDigits(digits.slice(9))}`;
}

function readCnpj(digits: string): string {
  const groups = [digits.slice(0, 2), digits.slice(2, 5), digits.slice(5, 8)].map(readGroup);
  return `${groups.join(', ')}, barra ${spellDigits(digits.slice(8, 12))}, traço ${spellDigits(digits.slice(12))}`;
}

function readCep(digits: string): string {
  return `${spellDigits(digits.slice(0, 5))}, traço ${spellDigits(digits.slice(5))}`;
}

/** Groups of three or four, as even as can be, the longer ones first: 10 digits → 4, 3, 3. */
export function codeGroups(digits: string): string[] {
  const count = Math.ceil(digits.length / 4);
  const base = Math.floor(digits.length / count);
  const longer = digits.length % count;
  const groups: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    const size = base + (i < longer ? 1 : 0);
    groups.push(digits.slice(at, at + size));
    at += size;
  }
  return groups;
}

function readInGroups(groups: readonly string[]): string {
  return groups.map(spellDigits).join(', ');
}

/** CPF, CNPJ, CEP, card numbers and long order or protocol numbers, each in its spoken groups. */
export function expandIdentifiers(text: string): string {
  const digitsOf = (match: string): string => match.replace(/\D/g, '');
  return text
    .replace(CNPJ, (match) => readCnpj(digitsOf(match)))
    .replace(CPF, (match) => readCpf(digitsOf(match)))
    .replace(CEP, (match) => readCep(digitsOf(match)))
    .replace(CARD, (_match, a: string, _sep: string, b: string, c: string, d: string) => readInGroups([a, b, c, d]))
    .replace(AMEX, (_match, a: string, _sep: string, b: string, c: string) => readInGroups([a, b, c]))
    .replace(BARE_CNPJ, (_match, digits: string) => readCnpj(digits))
    .replace(BARE_CPF, (_match, digits: string) => readCpf(digits))
    .replace(BARE_CEP, (_match, digits: string) => readCep(digits))
    .replace(LONG_CODE, (_match, digits: string) => readInGroups(codeGroups(digits)));
}
