// Abbreviations the phonemiser would read letter by letter or as a clipped word: "Sr." → "senhor".
// Titles (Sr., Dr., Av., nº…) drop their period, which only marks the abbreviation. Abbreviations that can end
// a sentence (etc., aprox.) keep it when they do (end of text, or a capital after), as prosody needs the stop.

interface Abbreviation {
  readonly written: string;
  readonly spoken: string;
  readonly canEndSentence: boolean;
}

function title(written: string, spoken: string): Abbreviation {
  return { written, spoken, canEndSentence: false };
}

function phrase(written: string, spoken: string): Abbreviation {
  return { written, spoken, canEndSentence: true };
}

const ABBREVIATIONS: readonly Abbreviation[] = [
  title('Srta.', 'senhorita'),
  title('Sras.', 'senhoras'),
  title('Srs.', 'senhores'),
  title('Sra.', 'senhora'),
  title('Sr.', 'senhor'),
  title('Dras.', 'doutoras'),
  title('Drs.', 'doutores'),
  title('Dra.', 'doutora'),
  title('Dr.', 'doutor'),
  title('Profa.', 'professora'),
  title('Prof.ª', 'professora'),
  title('Prof.', 'professor'),
  title('Av.', 'avenida'),
  title('n.º', 'número'),
  title('nº', 'número'),
  title('n°', 'número'),
  title('tel.', 'telefone'),
  title('pág.', 'página'),
  title('págs.', 'páginas'),
  title('séc.', 'século'),
  title('vs.', 'versus'),
  title('Cia.', 'companhia'),
  title('p. ex.', 'por exemplo'),
  title('p.ex.', 'por exemplo'),
  phrase('etc.', 'etcétera'),
  phrase('aprox.', 'aproximadamente'),
  phrase('Ltda.', 'limitada'),
];

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first letter in either case ("Dr." and "dr."); the rest exactly as written. */
function patternFor(written: string): string {
  const first = written.charAt(0);
  const rest = escapeRegExp(written.slice(1)).replace(/ /g, '\\s?');
  return `[${first.toUpperCase()}${first.toLowerCase()}]${rest}`;
}

const ALTERNATIVES = ABBREVIATIONS.map((a) => patternFor(a.written)).join('|');
const ABBREVIATION = new RegExp(String.raw`(?<![\p{L}\d.])(${ALTERNATIVES})(?!\p{L})`, 'gu');
const ENDS_SENTENCE = /^(?:\s*$|\s+\p{Lu})/u;

// "R." is "rua" only before a capitalised name or a number ("R. 25 de Março"), and not right after a
// capitalised name: in "João R. Silva" it is an initial. After an article or preposition ("Na R. Augusta")
// it is the street even at the start of a sentence.
const STREET = /(?<![\p{L}\d.])R\.(?=\s+[\p{Lu}\d])/gu;
const WORD_BEFORE = /(\p{L}+)\s+$/u;
const BEFORE_A_STREET = new Set(['a', 'à', 'na', 'da', 'pela', 'numa', 'uma', 'para', 'em', 'até', 'sua', 'nossa']);

function isInitial(textBefore: string): boolean {
  const word = WORD_BEFORE.exec(textBefore)?.[1];
  if (word === undefined || BEFORE_A_STREET.has(word.toLowerCase())) return false;
  return /^\p{Lu}/u.test(word);
}

function lookUp(written: string): Abbreviation | undefined {
  const normalised = written.replace(/\s/g, '').toLowerCase();
  return ABBREVIATIONS.find((a) => a.written.replace(/\s/g, '').toLowerCase() === normalised);
}

/** "Sr.", "Dra.", "Prof.", "Av.", "R. Augusta", "nº", "n.º", "etc.", "p.ex.", "vs.", "tel.", "aprox.". */
export function expandAbbreviations(text: string): string {
  return text
    .replace(ABBREVIATION, (match: string, _written: string, offset: number, whole: string) => {
      const found = lookUp(match);
      if (found === undefined) return match;
      const endsSentence = found.canEndSentence && ENDS_SENTENCE.test(whole.slice(offset + match.length));
      return endsSentence ? `${found.spoken}.` : found.spoken;
    })
    .replace(STREET, (match: string, offset: number, whole: string) =>
      isInitial(whole.slice(0, offset)) ? match : 'rua',
    );
}
