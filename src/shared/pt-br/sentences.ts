// Some rules depend on the sentence around a word (is the whole sentence shouted in capitals?), so they run
// one sentence at a time; the sentence stops themselves are kept as they are.

const SENTENCE_STOP = /([.!?…\n]+)/;
const WORD = /\p{L}{2,}/gu;

/** Applies `rewrite` to each sentence, leaving the stops (. ! ? … newline) between them untouched. */
export function mapSentences(text: string, rewrite: (sentence: string) => string): string {
  return text
    .split(SENTENCE_STOP)
    .map((piece, i) => (i % 2 === 0 ? rewrite(piece) : piece))
    .join('');
}

function isAllCaps(word: string): boolean {
  return word === word.toUpperCase() && word !== word.toLowerCase();
}

/**
 * A sentence written in capitals for emphasis ("NÃO SAIA DE CASA"): at least three words of two or more
 * letters in capitals, making up 60% or more of such words, and at least one of them not a known acronym
 * (so "INSS, CPF e RG" is not shouting).
 */
export function isShouted(sentence: string, knownAcronyms: ReadonlySet<string>): boolean {
  const words = sentence.match(WORD) ?? [];
  const capitals = words.filter(isAllCaps);
  // "ONGS" and "ONGs" are the plural of a known acronym, not shouting.
  const ordinary = capitals.filter((w) => !knownAcronyms.has(w) && !knownAcronyms.has(w.replace(/[Ss]$/, '')));
  return capitals.length >= 3 && capitals.length >= 0.6 * words.length && ordinary.length > 0;
}
