// What Whisper-style transcription APIs answer (Groq's, OpenAI's and the servers that copy them)
// and how voxq reads it: verbose_json segments → a Transcription, the language named → its code.
import { z } from 'zod';
import type { Transcription, TranscriptSegment } from '../ports/stt-provider.js';
import { fromWhisperLanguageName } from './language.js';

// What the answer carries that voxq reads; anything else the server adds is ignored.
export const whisperResponseSchema = z.object({
  text: z.string(),
  language: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  segments: z
    .array(z.object({ start: z.number(), end: z.number(), text: z.string(), avg_logprob: z.number().optional() }))
    .optional(),
});
export type WhisperResponse = z.infer<typeof whisperResponseSchema>;

/** Segments in time order (confidence from avg_logprob); the duration reported, else the last segment's end. */
export function fromVerboseJson(response: WhisperResponse, requested: string): Transcription {
  const segments: TranscriptSegment[] = (response.segments ?? [])
    .map((s) => ({
      startMs: Math.round(s.start * 1000),
      endMs: Math.round(s.end * 1000),
      text: s.text.trim(),
      ...(s.avg_logprob !== undefined ? { confidence: clamp01(Math.exp(s.avg_logprob)) } : {}),
    }))
    .sort((a, b) => a.startMs - b.startMs);
  const lastEndMs = segments.reduce((max, s) => Math.max(max, s.endMs), 0);
  return {
    text: response.text.trim(),
    segments,
    language: reportedLanguage(response.language, requested),
    durationMs: response.duration !== undefined ? Math.round(response.duration * 1000) : lastEndMs,
  };
}

/** Whisper names the language ("portuguese") or codes it ("pt"); unknown → the requested code. */
export function reportedLanguage(name: string | undefined, requested: string): string {
  if (name === undefined || name.trim() === '') return requested;
  try {
    return fromWhisperLanguageName(name);
  } catch {
    return requested;
  }
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
