// Which periods belong to an abbreviation rather than end a sentence, for the sentence segmenter.
// (abbreviations.ts is the other side: how the same abbreviations are read aloud.)
//
// Two kinds:
// - `never`: titles and words that always come before something ("Sr. Silva", "Av. Paulista", "pág. 5",
//   "p. ex."): their period never ends a sentence, whatever follows.
// - `may-end`: words that also close a phrase ("frutas etc.", "Acme Ltda.", "30 min."). Rule chosen for them:
//   the period ends the sentence when the next visible character is not a lowercase letter (a capital, a digit,
//   a line break, the end of the stream), which is the rule for any word; so "etc. Depois" cuts, "etc. e" and
//   "etc., e" do not. The same reading as abbreviations.ts, which keeps the stop of "etc." before a capital.
// "nº" and "n.º" need no entry: the º after the period already keeps it from being a stop; "nº." has one.

export type AbbreviationStop = 'never' | 'may-end';

/** Every abbreviation the segmenter knows, as written (matched without regard to case or inner spaces). */
export const SENTENCE_ABBREVIATIONS: Readonly<Record<AbbreviationStop, readonly string[]>> = {
  never: [
    // People
    'Sr.', 'Sra.', 'Srta.', 'Srs.', 'Sras.', 'Dr.', 'Dra.', 'Drs.', 'Dras.', 'Prof.', 'Profa.', 'Profs.',
    'Exmo.', 'Exma.', 'Ilmo.', 'Ilma.', 'Sto.', 'Sta.', 'Pe.', 'Eng.', 'Arq.', 'Adv.', 'Dep.', 'Sen.', 'Gov.',
    'Pres.', 'V.Exa.', 'V.Sa.',
    // Addresses
    'Av.', 'R.', 'Al.', 'Pça.', 'Rod.', 'Trav.', 'Est.', 'Bl.', 'Ap.', 'Apto.', 'Cj.',
    // Numbers and references
    'n.', 'nº.', 'núm.', 'pág.', 'págs.', 'p.', 'pp.', 'cap.', 'vol.', 'art.', 'inc.', 'fl.', 'fls.', 'séc.',
    'tel.', 'cel.', 'aprox.', 'máx.', 'mín.', 'obs.', 'vs.', 'p. ex.', 'p.ex.', 'i.e.', 'e.g.',
  ],
  'may-end': ['etc.', 'Ltda.', 'S.A.', 'Cia.', 'Jr.', 'min.', 'a.C.', 'd.C.'],
};

function key(written: string): string {
  return written.replace(/\s+/g, '').toLowerCase();
}

const KINDS = new Map<string, AbbreviationStop>();
for (const kind of ['never', 'may-end'] as const) {
  for (const written of SENTENCE_ABBREVIATIONS[kind]) KINDS.set(key(written), kind);
}

/** Letters with periods between them, as in initials ("J.K.") and "S.A.". */
const DOTTED_LETTERS = /^(?:\p{L}\.)+\p{L}$/u;

/**
 * What the period right after `word` is, `previousWord` being the word before it (for "p. ex."):
 * `never` a stop, a stop like any word's (`may-end`), or undefined when `word` is no abbreviation.
 * Dotted initials not in the list ("J.K.") are never a stop.
 */
export function abbreviationBefore(word: string, previousWord: string): AbbreviationStop | undefined {
  const found = KINDS.get(key(`${word}.`)) ?? KINDS.get(key(`${previousWord}${word}.`));
  if (found !== undefined) return found;
  return DOTTED_LETTERS.test(word) ? 'never' : undefined;
}
