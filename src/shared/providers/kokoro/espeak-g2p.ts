// Text → Kokoro phonemes for espeak languages (pt-BR), reproducing what Kokoro's own G2P does:
// misaki `EspeakG2P` (hexgrad/misaki misaki/espeak.py) on phonemizer's EspeakBackend
// (bootphon/phonemizer: preserve_punctuation, with_stress, tie='^', language_switch='remove-flags').
// phonemizer calls libespeak-ng's espeak_TextToPhonemes; we run the espeak-ng CLI instead, so
// two CLI differences are undone here (see `clauseInput`). Text goes on stdin, never through a shell.
import { ProcessError, runProcess, type ProcessResult } from '../../run-process.js';
import { ProviderError, type ProviderErrorKind } from '../provider-error.js';

export interface EspeakG2POptions {
  /** espeak-ng binary (default `espeak-ng`). */
  binary?: string;
  /** espeak-ng voice (default `pt-br`, as Kokoro's pipeline uses for lang code 'p'). */
  language?: string;
  /** Per espeak-ng run (default 15 000 ms). */
  timeoutMs?: number;
}

/** A run of punctuation (with the whitespace around it) that phonemizer hides from espeak. */
export interface PunctuationMark {
  text: string;
  /** B: starts the line, E: ends it, I: inside, A: the whole line (phonemizer's positions). */
  position: 'B' | 'E' | 'I' | 'A';
}

const PROVIDER = 'kokoro';
/** phonemizer's Punctuation.default_marks(); Python's `\s` also covers \x1c-\x1f and \x85. */
// eslint-disable-next-line no-control-regex -- those separators are whitespace to Python's `\s`
const MARK_RUN = /(?:[\s\x1c-\x1f\x85]*[;:,.!?¡¿—…"«»“”(){}[\]]+[\s\x1c-\x1f\x85]*)+/gu;
/** misaki EspeakG2P.e2m (v1.0 model, so no nasal-vowel letters), in misaki's sorted order. */
const E2M: ReadonlyArray<readonly [string, string]> = [
  ['a^ɪ', 'I'], ['a^ʊ', 'W'], ['d^z', 'ʣ'], ['d^ʒ', 'ʤ'], ['e^ɪ', 'A'], ['o^ʊ', 'O'],
  ['s^s', 'S'], ['t^s', 'ʦ'], ['t^ʃ', 'ʧ'], ['ɔ^ɪ', 'Y'], ['ə^ʊ', 'Q'],
];

/** misaki's mapping of phonemizer output (ties as `^`) to Kokoro's phoneme alphabet. */
export function espeakToMisaki(ipa: string): string {
  let ps = ipa.trim();
  for (const [from, to] of E2M) ps = ps.replaceAll(from, to);
  // Leftover ties join nothing Kokoro knows; misaki drops them and (for v1.0) hyphens too.
  ps = ps.replaceAll('^', '').replaceAll('-', '');
  return ps.replaceAll('«', '(').replaceAll('»', ')');
}

/** misaki hides parentheses as «» (which phonemizer treats as punctuation), after turning «» into “”. */
export function misakiPreprocess(text: string): string {
  return text.replaceAll('«', '“').replaceAll('»', '”').replaceAll('(', '«').replaceAll(')', '»');
}

/** phonemizer Punctuation._preserve_line: the text between punctuation runs, and the runs. */
export function splitPunctuation(line: string): { chunks: string[]; marks: PunctuationMark[] } {
  const matches = [...line.matchAll(MARK_RUN)];
  if (matches.length === 0) return { chunks: [line], marks: [] };
  if (matches.length === 1 && matches[0]?.[0] === line) return { chunks: [], marks: [{ text: line, position: 'A' }] };
  const chunks: string[] = [];
  const marks: PunctuationMark[] = [];
  let from = 0;
  matches.forEach((match, ix) => {
    const start = match.index;
    const end = start + match[0].length;
    let position: PunctuationMark['position'] = 'I';
    if (ix === 0 && start === 0) position = 'B';
    else if (ix === matches.length - 1 && end === line.length) position = 'E';
    marks.push({ text: match[0], position });
    chunks.push(line.slice(from, start));
    from = end;
  });
  chunks.push(line.slice(from));
  return { chunks: chunks.filter((chunk) => chunk !== ''), marks };
}

/** phonemizer EspeakBackend._postprocess_line: one chunk's espeak clauses → words, each + ' '. */
export function postprocessClauses(clauses: readonly string[]): string {
  let line = clauses.filter((clause) => clause !== '').join(' ');
  line = line.trim().replaceAll('\n', ' ').replaceAll('  ', ' ');
  line = line.replace(/_+/g, '_').replaceAll('_ ', ' ');
  line = line.replace(/\(.+?\)/g, ''); // remove-flags: "(en)" language-switch markers
  if (line === '') return '';
  return line
    .split(' ')
    .map((word) => `${word.trim().replaceAll('\u0361', '^')} `)
    .join('');
}

/** phonemizer Punctuation.restore for one line (every mark on line 0), then misaki's `ps[0]`. */
export function restorePunctuation(phonemized: readonly string[], marks: readonly PunctuationMark[]): string {
  const text = [...phonemized];
  const out: string[] = [];
  let pos = 0;
  let next = 0;
  const dropSeparator = (): void => {
    if (text[0]?.endsWith(' ')) text[0] = text[0].slice(0, -1);
  };
  while (text.length > 0 || next < marks.length) {
    const mark = marks[next];
    if (mark === undefined) {
      for (const line of text.splice(0)) out.push(line.endsWith(' ') ? line : `${line} `);
    } else if (text.length === 0) {
      out.push(marks.slice(next).map((m) => m.text).join(''));
      next = marks.length;
    } else if (pos === 0) {
      next++;
      dropSeparator();
      const head = text[0] ?? '';
      const closing = mark.text.endsWith(' ') ? '' : ' ';
      if (mark.position === 'B') text[0] = mark.text + head;
      else if (mark.position === 'I') text.splice(0, 2, head + mark.text + (text[1] ?? ''));
      else {
        // E ends the line: the chunk and its mark are done. (A never gets here: no chunks.)
        out.push((mark.position === 'E' ? (text.shift() ?? '') : '') + mark.text + closing);
        pos++;
      }
    } else {
      out.push(text.shift() ?? '');
      pos++;
    }
  }
  return out[0] ?? '';
}

/**
 * The CLI text for a batch: each chunk becomes its own clause ended by an SSML <break/>. Why:
 * (1) the CLI prints phonemes after intonation (CalcPitches), which promotes a clause's strongest
 * syllable to primary stress when it has none ("sow" → "sˈow"); a <break/> ends the clause with
 * intonation type "none", which skips that promotion, so the stress marks equal TextToPhonemes';
 * (2) one clause per chunk prints one line per chunk, so one spawn phonemizes a whole text.
 */
function clauseInput(chunks: readonly string[]): string {
  const escape = (chunk: string): string => chunk.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return chunks.map((chunk) => `${escape(chunk)}<break/>`).join('');
}

export class EspeakG2P {
  private readonly binary: string;
  private readonly language: string;
  private readonly timeoutMs: number;

  constructor({ binary = 'espeak-ng', language = 'pt-br', timeoutMs = 15_000 }: EspeakG2POptions = {}) {
    this.binary = binary;
    this.language = language;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Kokoro phonemes for `text`. Lines are phonemized apart (Kokoro's pipeline splits on newlines)
   * and joined with a space; all of a text's chunks go through a single espeak-ng run.
   */
  async phonemize(text: string, signal?: AbortSignal): Promise<string> {
    if (signal?.aborted) throw this.error('aborted', 'phonemization aborted');
    if (text.trim() === '') throw this.error('bad_request', 'nothing to phonemize: the text is empty');
    const lines = text
      .trim()
      .split(/\n+/)
      .filter((line) => line.trim() !== '')
      .map((line) => splitPunctuation(misakiPreprocess(line)));
    const chunks = lines.flatMap((line) => line.chunks);
    const clauses = chunks.length > 0 ? await this.clausesPerChunk(chunks, signal) : [];
    let ix = 0;
    const phonemes = lines.map((line) => {
      const words = line.chunks.map(() => postprocessClauses(clauses[ix++] ?? []));
      return espeakToMisaki(restorePunctuation(words, line.marks));
    });
    return phonemes.filter((ps) => ps !== '').join(' ');
  }

  /** espeak-ng's clauses for each chunk: one run for all, or one run per chunk if lines don't line up. */
  private async clausesPerChunk(chunks: readonly string[], signal: AbortSignal | undefined): Promise<string[][]> {
    const lines = await this.run(clauseInput(chunks), signal);
    // n chunks → n lines, plus the empty clause after the last <break/>.
    if (lines.length === chunks.length + 1 && lines.at(-1) === '') return lines.slice(0, -1).map((line) => [line]);
    // A chunk espeak itself split (over ~700 bytes, or a mark only espeak knows, like "–"): the
    // lines can't be attributed, so phonemize chunk by chunk, as phonemizer does anyway.
    const perChunk: string[][] = [];
    for (const chunk of chunks) perChunk.push((await this.run(clauseInput([chunk]), signal)).filter((line) => line !== ''));
    return perChunk;
  }

  /** Runs espeak-ng on SSML `input`; resolves with its stdout lines once the process has exited. */
  private async run(input: string, signal: AbortSignal | undefined): Promise<string[]> {
    // -q: no audio; -b 1: UTF-8 (phonemizer's text mode); -m: SSML; --stdin: whole input at once
    // (without it the CLI reads 1000-byte pieces); --tie=^: phonemizer's tie='^'.
    const args = ['-q', '-b', '1', '-m', '--stdin', '--ipa', '--tie=^', '-v', this.language];
    let result: ProcessResult;
    try {
      result = await runProcess(this.binary, args, { stdin: input, timeoutMs: this.timeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw this.processError(error);
    }
    const message = result.stderr.trim();
    if (result.code !== 0) {
      const kind: ProviderErrorKind = /voice does not exist/i.test(message) ? 'bad_request' : 'server';
      throw this.error(kind, `espeak-ng exited with code ${String(result.code)}: ${message.slice(0, 200)}`);
    }
    const text = result.stdout.toString('utf8');
    return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  }

  private processError(error: unknown): ProviderError {
    if (!(error instanceof ProcessError)) return this.error('server', String(error), error);
    if (error.reason === 'spawn') return this.error('connection', `espeak-ng is not available (${this.binary})`, error);
    if (error.reason === 'aborted') return this.error('aborted', 'phonemization aborted', error);
    return this.error('timeout', `espeak-ng gave no phonemes within ${this.timeoutMs} ms`, error);
  }

  private error(kind: ProviderErrorKind, message: string, cause?: unknown): ProviderError {
    return new ProviderError(`kokoro g2p: ${message}`, { kind, provider: PROVIDER, cause });
  }
}
