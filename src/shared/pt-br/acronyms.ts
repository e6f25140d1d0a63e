// Acronyms: "INSS" → "i ene esse esse", "CPF" → "cê pê efe", with Portuguese letter names.
// Rule: a token of 2–5 capitals (A–Z, optional plural "s": "ONGs") is spelled, unless it is in READ_AS_WORD
// (acronyms Brazilians pronounce as a word: ONU, SUS, ENEM…, and ordinary words typed in capitals for emphasis:
// NUNCA, ISSO…), which is written in lower case so that the phonemiser reads it as a word. Longer all-caps
// tokens (UNESCO, PETROBRAS) are words already and stay as they are. In a sentence shouted in capitals
// (see sentences.ts) only the acronyms of SPELLED are spelled and every other capitalised word is lowered.
import { isShouted, mapSentences } from './sentences.js';

const LETTER_NAMES: Readonly<Record<string, string>> = {
  A: 'a', B: 'bê', C: 'cê', D: 'dê', E: 'é', F: 'efe', G: 'gê', H: 'agá', I: 'i', J: 'jota', K: 'cá', L: 'ele',
  M: 'eme', N: 'ene', O: 'ó', P: 'pê', Q: 'quê', R: 'erre', S: 'esse', T: 'tê', U: 'u', V: 'vê', W: 'dáblio',
  X: 'xis', Y: 'ípsilon', Z: 'zê',
};

/** Acronyms read as words, and the spoken form given to the phonemiser. */
const READ_AS_WORD: Readonly<Record<string, string>> = {
  ONU: 'onu', FIFA: 'fifa', OTAN: 'otan', NASA: 'nasa', SUS: 'sus', ENEM: 'enem', PIX: 'pix', CEP: 'cep',
  MEC: 'mec', AIDS: 'aids', COVID: 'covid', OVNI: 'óvni', LED: 'led', IBAMA: 'ibama', FUNAI: 'funai',
  SENAI: 'senai', SESC: 'sesc', IBOPE: 'ibope', BOPE: 'bope', FIES: 'fies', USP: 'usp', OK: 'oquei',
  UNESCO: 'unesco', UNICEF: 'unicef', DETRAN: 'detran', ANVISA: 'anvisa', ANATEL: 'anatel',
};

/** Common words typed in capitals for emphasis; read as the words they are. */
const EMPHASIS_WORDS = [
  'NUNCA', 'SEMPRE', 'MUITO', 'NADA', 'TUDO', 'ISSO', 'ISTO', 'ESSE', 'ESTE', 'AGORA', 'SIM', 'TODOS', 'TODAS',
  'MAIS', 'MENOS', 'BEM', 'MAL', 'ANTES', 'HOJE', 'NEM', 'ELE', 'ELA', 'EU', 'SEM', 'COM', 'PARA', 'AVISO',
  'FIM', 'NOVO', 'NOVA', 'URGENTE',
];

/** Spelled even inside a shouted sentence, where other capitalised words are ordinary words. */
const SPELLED = new Set([
  'CPF', 'CNPJ', 'RG', 'CNH', 'INSS', 'FGTS', 'PIS', 'PIB', 'IPVA', 'IPTU', 'ICMS', 'IR', 'EUA', 'UTI', 'TV',
  'DDD', 'PDF', 'URL', 'USB', 'SMS', 'ONG', 'OMS', 'STF', 'STJ', 'TSE', 'IBGE', 'CLT', 'MEI', 'PM', 'PF', 'SP',
  'RJ', 'MG', 'BA', 'RS', 'PR', 'SC', 'DF', 'UF', 'CEO', 'TI', 'IA', 'API', 'PC', 'GPS', 'DNA', 'HIV', 'FMI',
]);

/** Acronyms that are not shouting when a sentence has several of them ("INSS, CPF e RG"). */
export const KNOWN_ACRONYMS: ReadonlySet<string> = new Set([...SPELLED, ...Object.keys(READ_AS_WORD)]);

const ASCII_CAPS_TOKEN = /(?<![\p{L}\d])([A-Z]{2,})(s?)(?![\p{L}\d])/gu;
// Single letters too: in a shouted sentence "O" and "E" are the article and the conjunction.
const ANY_CAPS_WORD = /(?<![\p{L}\d])(\p{Lu}[\p{Lu}\p{M}]*)(s?)(?![\p{L}\d])/gu;

function pluralName(name: string): string {
  return name.endsWith('s') ? name : `${name}s`;
}

/** "INSS" → "i ene esse esse"; "ONG" + plural → "ó ene gês". */
export function spellAcronym(letters: string, plural = false): string {
  const names = [...letters.toUpperCase()].map((letter) => LETTER_NAMES[letter] ?? letter.toLowerCase());
  const last = names.pop() ?? '';
  return [...names, plural ? pluralName(last) : last].join(' ');
}

function readAsWord(token: string): string | undefined {
  const known = READ_AS_WORD[token];
  if (known !== undefined) return known;
  return EMPHASIS_WORDS.includes(token) ? token.toLowerCase() : undefined;
}

function expandInPlainSentence(sentence: string): string {
  return sentence.replace(ASCII_CAPS_TOKEN, (match, letters: string, plural: string) => {
    const word = readAsWord(letters);
    if (word !== undefined) return `${word}${plural}`;
    if (letters.length > 5) return match;
    return spellAcronym(letters, plural === 's');
  });
}

function expandInShoutedSentence(sentence: string): string {
  return sentence.replace(ANY_CAPS_WORD, (_match, letters: string, plural: string) => {
    if (SPELLED.has(letters)) return spellAcronym(letters, plural === 's');
    return `${readAsWord(letters) ?? letters.toLowerCase()}${plural}`;
  });
}

/** Spells acronyms and lowers words that are only capitalised for emphasis, one sentence at a time. */
export function expandAcronyms(text: string): string {
  return mapSentences(text, (sentence) =>
    isShouted(sentence, KNOWN_ACRONYMS) ? expandInShoutedSentence(sentence) : expandInPlainSentence(sentence),
  );
}
