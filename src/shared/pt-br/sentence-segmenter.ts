// Cuts a streamed LLM reply into sentences as the tokens arrive, so that TTS can start on the first one.
// One pass, character by character: each character is looked at once (plus the word it closes), so push() costs
// O(token length) amortized and nothing rescans the reply.
//
// A cut is made only where it is certain:
// - after . ! ? … (any run of them: "...", "?!", "!!!") and the closing quotes, brackets or markdown marks right
//   after it, when whitespace follows and no quote or bracket is left open. "!" and "?" cut at that whitespace;
//   "." and "…" look at the next visible character: a lowercase letter means the text goes on ("Bem... talvez",
//   "aprox. cinco"), anything else (a capital, a digit, a line break, the end) cuts. So does a "!"/"?" that a
//   quote or bracket closes: `"Tudo bem?" e saiu` is one sentence. Tokenizers put the space at the start of the
//   next token, so the token that starts with it settles the cut and the sentence comes out of that same
//   push(); a token that is only whitespace settles it as a cut (the next letter is not known yet, and no
//   sentence waits longer than one token).
// - at every line break (list items, headings, paragraphs), outside ``` fenced code blocks, which are never cut.
// - near maxChars in a long clause: at the last space after , ; : or a spaced dash if that leaves at least half
//   of maxChars, else at the last space; never inside a word (a longer word waits for its space), never in code.
// Not stops: abbreviations (sentence-abbreviations.ts), single capital initials ("J. K. Rowling", so also
// "vitamina C. Depois" stays one sentence), list markers that open a sentence ("1.", "2.3.", "a.", "IV."),
// and any period with no whitespace after it (3.14, 1.250,50, 25.12.2026, 2.0.1, www.exemplo.com.br).
// A piece with no letter or digit ("...", "---", "😊", "**") is never a sentence of its own: it stays with the
// text that follows, and end() returns it as it is if nothing follows. Sentences are trimmed slices of the text.
import { abbreviationBefore } from './sentence-abbreviations.js';

export interface SegmenterOptions {
  /** a clause with no usable punctuation is cut near this length, at a word boundary (default 220) */
  maxChars?: number;
}

const DEFAULT_MAX_CHARS = 220;
const TERMINAL = new Set(['.', '!', '?', '…']);
/** What may follow a stop and still belong to its sentence: closing quotes, brackets, markdown emphasis. */
const TRAILING = new Set([')', ']', '»', '”', '’', '"', "'", '›', '*', '_', '~']);
const CLOSER_OF: Readonly<Record<string, string>> = { '(': ')', '[': ']', '«': '»', '“': '”', '‹': '›' };
/** Where a straight double quote opens one (after a space, an opening bracket or these). */
const QUOTE_OPENS_AFTER = new Set([...Object.keys(CLOSER_OF), ':', '—', '–', '-', '/']);
const EMOTICON_EYES = new Set([':', ';']);
const CLAUSE_END = new Set([',', ';', ':']);
const DASHES = new Set(['—', '–', '-']);
const LEADING_MARKS = /^[([{"“«‹'‘*_~`¿¡]+/u;
const TRAILING_MARKS = /[)\]»”’"'›*_~`]+$/u;
const LIST_MARKER = /^(?:\d{1,3}(?:\.\d{1,3})*|\p{Ll}|[IVXLC]{1,6})$/u;
const CONTENT = /[\p{L}\p{N}]/u;
const SPACE = /\s/u;
const LOWERCASE = /\p{Ll}/u;

type StopKind = 'period' | 'ellipsis' | 'strong';

/** A run of stop characters that may end the sentence, waiting for what follows it. */
interface Pending {
  kind: StopKind;
  /** Index in the buffer of its first stop character. */
  readonly start: number;
  /** Closing quotes, brackets or marks came after it. */
  closed: boolean;
  /** Index in the buffer where the sentence ends once whitespace has come; -1 before. */
  end: number;
}

function stopKind(run: string): StopKind {
  if (/[!?]/.test(run)) return 'strong';
  return run.length > 1 || run.includes('…') ? 'ellipsis' : 'period';
}

export class SentenceSegmenter {
  private readonly maxChars: number;
  /** The text not yet returned, from the end of the last sentence. */
  private buffer = '';
  private out: string[] = [];
  private pending: Pending | undefined;
  /** Closers of the quotes and brackets open now, innermost last. */
  private open: string[] = [];
  private previous = '\n';
  private beforePrevious = '\n';
  /** The buffer has a letter or digit; index of its first visible character (-1: none). */
  private hasContent = false;
  private contentStart = -1;
  /** Start of the word being read (-1 between words); it is the first word with content of the sentence. */
  private wordStart = -1;
  private wordIsFirst = false;
  private previousWord = '';
  /** Places for a cut by length: the last space, the last space after a clause end. */
  private lastSpace = -1;
  private lastClauseSpace = -1;
  private backticks = 0;
  private inCode = false;

  constructor(options: SegmenterOptions = {}) {
    const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    if (!Number.isInteger(maxChars) || maxChars < 2) throw new RangeError(`maxChars must be an integer of 2 or more (got ${maxChars})`);
    this.maxChars = maxChars;
  }

  /** Feeds one streamed token; returns the sentences that became complete (trimmed, non-empty), in order. */
  push(token: string): string[] {
    for (const char of token) this.feed(char);
    // Whitespace ended the token right after a stop: the next letter is not known, and no sentence waits.
    if (this.pending !== undefined && this.pending.end >= 0) {
      const { end } = this.pending;
      this.pending = undefined;
      this.cut(end);
    }
    return this.take();
  }

  /** The stream ended: returns what is left (0 or more trimmed non-empty sentences). */
  end(): string[] {
    this.settleFence();
    const rest = this.buffer.trim();
    if (rest !== '') this.out.push(rest);
    const sentences = this.take();
    this.reset();
    return sentences;
  }

  private take(): string[] {
    const sentences = this.out;
    this.out = [];
    return sentences;
  }

  private reset(): void {
    this.buffer = '';
    this.pending = undefined;
    this.open = [];
    this.previous = '\n';
    this.beforePrevious = '\n';
    this.hasContent = false;
    this.contentStart = -1;
    this.wordStart = -1;
    this.wordIsFirst = false;
    this.previousWord = '';
    this.lastSpace = -1;
    this.lastClauseSpace = -1;
    this.backticks = 0;
    this.inCode = false;
  }

  private feed(char: string): void {
    if (char !== '`') this.settleFence();
    if (this.inCode) {
      this.append(char);
    } else {
      if (this.pending !== undefined) this.advancePending(char);
      this.read(char);
    }
    if (char === '`') this.backticks += 1;
    this.beforePrevious = this.previous;
    this.previous = char;
  }

  /** A run of three or more backticks opens or closes a fenced code block, known once the run is over. */
  private settleFence(): void {
    if (this.backticks >= 3) {
      this.inCode = !this.inCode;
      this.pending = undefined;
      this.wordStart = -1;
      this.lastSpace = this.lastClauseSpace = -1;
    }
    this.backticks = 0;
  }

  /** Decides, or keeps waiting on, the stop in `pending` with the character after it. */
  private advancePending(char: string): void {
    const pending = this.pending;
    if (pending === undefined) return;
    if (pending.end < 0) {
      if (TERMINAL.has(char) && !pending.closed) {
        pending.kind = stopKind(this.buffer.slice(pending.start) + char);
      } else if (TRAILING.has(char)) {
        pending.closed = true;
      } else if (char !== '\n' && SPACE.test(char)) {
        if (!this.endsSentence(pending)) {
          this.pending = undefined;
        } else if (pending.kind === 'strong' && !pending.closed) {
          this.pending = undefined;
          this.cut(this.buffer.length);
        } else {
          pending.end = this.buffer.length;
        }
      } else {
        this.pending = undefined; // "3.14", "exemplo.com", a line break (which cuts anyway)
      }
      return;
    }
    if (char !== '\n' && SPACE.test(char)) return;
    this.pending = undefined;
    if (char === '\n' || !LOWERCASE.test(char)) this.cut(pending.end);
  }

  /** Whether the stop in `pending`, now followed by whitespace, can end the sentence. */
  private endsSentence(pending: Pending): boolean {
    if (this.open.length > 0) return false;
    if (pending.kind !== 'period' || this.wordStart < 0) return true;
    const word = this.buffer.slice(this.wordStart, pending.start).replace(LEADING_MARKS, '').replace(TRAILING_MARKS, '');
    if (word === '') return true;
    const abbreviation = abbreviationBefore(word, this.previousWord);
    if (abbreviation !== undefined) return abbreviation === 'may-end';
    if (/^\p{Lu}$/u.test(word)) return false; // an initial
    return !(this.wordIsFirst && LIST_MARKER.test(word));
  }

  /** Appends one character outside code, keeping track of words, quotes, stops and places to cut. */
  private read(char: string): void {
    if (char === '\n') {
      this.endWord();
      this.open = [];
      this.cut(this.buffer.length);
      this.previousWord = '';
      this.append(char);
      return;
    }
    if (SPACE.test(char)) {
      this.endWord();
      if (this.contentStart >= 0) {
        this.lastSpace = this.buffer.length;
        if (this.endsClause()) this.lastClauseSpace = this.buffer.length;
      }
      this.append(char);
      return;
    }
    if (this.wordStart < 0) {
      this.wordStart = this.buffer.length;
      this.wordIsFirst = !this.hasContent;
    }
    if (this.contentStart < 0) this.contentStart = this.buffer.length;
    this.trackQuotes(char);
    this.append(char);
    if (this.pending === undefined && TERMINAL.has(char)) {
      this.pending = { kind: stopKind(char), start: this.buffer.length - 1, closed: false, end: -1 };
    }
    if (this.pending === undefined) this.cutIfTooLong();
  }

  private append(char: string): void {
    this.buffer += char;
    if (!this.hasContent && CONTENT.test(char)) this.hasContent = true;
  }

  private endWord(): void {
    if (this.wordStart < 0) return;
    this.previousWord = this.buffer.slice(this.wordStart);
    this.wordStart = -1;
  }

  /** The space being read comes after , ; : or a dash with a space before it. */
  private endsClause(): boolean {
    return CLAUSE_END.has(this.previous) || (DASHES.has(this.previous) && SPACE.test(this.beforePrevious));
  }

  /**
   * Opens and closes quotes and brackets. A closer also closes whatever was left open inside it; a straight quote
   * closes an open one, else opens where a quote can start; ":(" and ";(" are faces, not brackets.
   */
  private trackQuotes(char: string): void {
    const closer = CLOSER_OF[char];
    if (closer !== undefined) {
      if (!(char === '(' && EMOTICON_EYES.has(this.previous))) this.open.push(closer);
      return;
    }
    const at = this.open.lastIndexOf(char);
    if (at >= 0) this.open.length = at;
    else if (char === '"' && (SPACE.test(this.previous) || QUOTE_OPENS_AFTER.has(this.previous))) this.open.push('"');
  }

  private cutIfTooLong(): void {
    if (this.contentStart < 0 || this.buffer.length - this.contentStart <= this.maxChars) return;
    const clauseLongEnough = this.lastClauseSpace - this.contentStart >= this.maxChars / 2;
    const at = clauseLongEnough ? this.lastClauseSpace : this.lastSpace;
    if (at > this.contentStart) this.cut(at);
  }

  /**
   * Ends a sentence at `at` (an index in the buffer) and keeps the rest for the next one. A piece without a
   * letter or digit is kept too, in front of the next sentence.
   */
  private cut(at: number): void {
    if (!this.hasContent) return;
    const piece = this.buffer.slice(0, at);
    if (!CONTENT.test(piece)) return;
    this.out.push(piece.trim());
    const rest = this.buffer.slice(at);
    this.buffer = rest;
    const firstVisible = rest.search(/\S/u);
    this.contentStart = firstVisible;
    this.hasContent = CONTENT.test(rest);
    this.lastSpace = this.lastSpace > at ? this.lastSpace - at : -1;
    this.lastClauseSpace = this.lastClauseSpace > at ? this.lastClauseSpace - at : -1;
    if (this.wordStart >= at) {
      this.wordStart -= at;
      this.wordIsFirst = !CONTENT.test(rest.slice(0, this.wordStart));
    } else {
      this.wordStart = -1;
      this.previousWord = '';
    }
  }
}

/** Whole text at once (used by the non-streaming mode and tests): the same cuts as pushing it token by token. */
export function splitSentences(text: string, options?: SegmenterOptions): string[] {
  const segmenter = new SentenceSegmenter(options);
  return [...segmenter.push(text), ...segmenter.end()];
}
