// A transcript as SRT, WebVTT, JSON (segments with start, end, text and confidence where the
// provider gave one) and plain text.
import type { BatchRecord } from '../../shared/contracts/batch.js';

export const TRANSCRIPT_FORMATS = ['srt', 'vtt', 'json', 'txt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

function clock(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const milli = total % 1000;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}${separator}${String(milli).padStart(3, '0')}`;
}

function cues(record: BatchRecord): BatchRecord['segments'] {
  return record.segments.filter((s) => s.text.trim() !== '' && s.endMs > s.startMs);
}

export function toSrt(record: BatchRecord): string {
  return cues(record)
    .map((s, i) => `${i + 1}\n${clock(s.startMs, ',')} --> ${clock(s.endMs, ',')}\n${s.text.trim()}\n`)
    .join('\n');
}

export function toVtt(record: BatchRecord): string {
  const body = cues(record).map((s) => `${clock(s.startMs, '.')} --> ${clock(s.endMs, '.')}\n${s.text.trim()}\n`);
  return `WEBVTT\n\n${body.join('\n')}`;
}

export function toJson(record: BatchRecord, source: string): string {
  return `${JSON.stringify(
    {
      source,
      language: record.language,
      durationS: record.durationMs / 1000,
      speechS: record.speechMs / 1000,
      provider: record.provider,
      model: record.model,
      text: record.text,
      segments: record.segments.map((s) => ({
        start: s.startMs / 1000,
        end: s.endMs / 1000,
        text: s.text,
        ...(s.confidence !== undefined ? { confidence: Math.round(s.confidence * 1000) / 1000 } : {}),
      })),
    },
    null,
    2,
  )}\n`;
}

export function toTxt(record: BatchRecord): string {
  return record.text === '' ? '' : `${record.text}\n`;
}

export function render(format: TranscriptFormat, record: BatchRecord, source: string): string {
  switch (format) {
    case 'srt':
      return toSrt(record);
    case 'vtt':
      return toVtt(record);
    case 'json':
      return toJson(record, source);
    case 'txt':
      return toTxt(record);
  }
}
