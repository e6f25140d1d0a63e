// Reasoning models on OpenAI-compatible servers (and Groq, defensively) may put
// `<think>…</think>` before the answer: voxq keeps only the answer, for TTS and the history.

const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Removes `<think>…</think>` from text that arrives in pieces, whatever the cut points, and the
 * whitespace before the answer's first character. Feeding the whole text at once gives the same
 * output as feeding it piece by piece, so a stream concatenates to what generate() returns.
 */
export class ThinkTagFilter {
  private pending = '';
  private thinking = false;
  private started = false;

  push(piece: string): string {
    this.pending += piece;
    let out = '';
    for (;;) {
      const tag = this.thinking ? CLOSE : OPEN;
      const at = this.pending.indexOf(tag);
      if (at >= 0) {
        if (!this.thinking) out += this.pending.slice(0, at);
        this.pending = this.pending.slice(at + tag.length);
        this.thinking = !this.thinking;
        continue;
      }
      // Hold back a tail that could be the start of the tag.
      const keep = partialTagLength(this.pending, tag);
      if (!this.thinking) out += this.pending.slice(0, this.pending.length - keep);
      this.pending = this.pending.slice(this.pending.length - keep);
      break;
    }
    return this.emit(out);
  }

  /** What is left at the end: a held-back partial tag is text after all; unclosed reasoning is dropped. */
  flush(): string {
    const rest = this.thinking ? '' : this.pending;
    this.pending = '';
    return this.emit(rest);
  }

  private emit(text: string): string {
    if (this.started) return text;
    const trimmed = text.trimStart();
    if (trimmed !== '') this.started = true;
    return trimmed;
  }
}

function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n -= 1) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}
