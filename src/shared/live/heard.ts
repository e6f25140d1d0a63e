// How much of an interrupted reply the user heard. With `playedMs` (reply audio the client
// played, chunks back to back), the sentences wholly played count, and the one playing is cut
// at its last word played — in proportion to its characters and audio duration, as voxq's TTS
// engines give no word timings. Without it, the sentences whose chunks a consumer read from the
// event log count as heard.
import type { SentenceMeta } from './live-turns.js';

export interface Heard {
  text: string;
  sentencesHeard: number;
}

/** The words of `text` whose end falls within its first `fraction` of characters. */
export function cutAtWord(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const limit = text.length * Math.max(0, fraction);
  let cut = 0;
  for (const match of text.matchAll(/\S+/g)) {
    const end = match.index + match[0].length;
    if (end > limit) break;
    cut = end;
  }
  return text.slice(0, cut).trim();
}

export function heardReply(sentences: readonly SentenceMeta[], options: { playedMs?: number | undefined; readIndex: number }): Heard {
  const ordered = [...sentences].sort((a, b) => a.index - b.index);
  const parts: string[] = [];
  if (options.playedMs === undefined) {
    for (const s of ordered) if (s.index <= options.readIndex) parts.push(s.text);
    return { text: parts.join(' ').trim(), sentencesHeard: parts.length };
  }
  let startMs = 0;
  for (const s of ordered) {
    if (options.playedMs >= startMs + s.durationMs) {
      parts.push(s.text);
    } else {
      const partial = s.durationMs > 0 ? cutAtWord(s.text, (options.playedMs - startMs) / s.durationMs) : '';
      if (partial !== '') parts.push(partial);
      break;
    }
    startMs += s.durationMs;
  }
  return { text: parts.join(' ').trim(), sentencesHeard: parts.length };
}
