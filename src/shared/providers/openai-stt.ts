// SttProvider on any OpenAI-compatible transcriptions API (OpenAI whisper-1, a faster-whisper or
// whisper.cpp server…). verbose_json gives segment times where the model supports it; models
// that answer only plain text (gpt-4o-transcribe) give one segment over the whole audio.
import { toFile, type OpenAI } from 'openai';
import { z } from 'zod';
import { MAX_AUDIO_BYTES, probeAudio } from '../audio/probe.js';
import { readWavInfo } from '../audio/wav.js';
import type { AudioInput } from '../ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription, TranscriptSegment } from '../ports/stt-provider.js';
import { createOpenAiClient, openAiServesModel, type OpenAiClientOptions } from './openai-client.js';
import { classifyOpenAiError } from './openai-errors.js';
import { fromWhisperLanguageName, toIso6391 } from './language.js';
import { ProviderError } from './provider-error.js';

export interface OpenAiSttOptions extends OpenAiClientOptions {
  /** Default `whisper-1`. */
  model?: string;
  /** Ask for verbose_json (segment times). Default: true, except for gpt-4o*-transcribe models. */
  segmentTimes?: boolean;
  /** Largest file sent; default 25 MB (OpenAI's limit). */
  maxFileBytes?: number;
}

const PROVIDER = 'openai';
const DEFAULT_MODEL = 'whisper-1';

// What the answer carries that voxq reads; anything else the server adds is ignored.
const responseSchema = z.object({
  text: z.string(),
  language: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  segments: z
    .array(z.object({ start: z.number(), end: z.number(), text: z.string(), avg_logprob: z.number().optional() }))
    .optional(),
});
type SttResponse = z.infer<typeof responseSchema>;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
};

/** Models that answer only json/text (no segments). */
export function answersTextOnly(model: string): boolean {
  return /^gpt-4o.*transcribe/.test(model);
}

export class OpenAiSttProvider implements SttProvider {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly segmentTimes: boolean;
  private readonly maxFileBytes: number;

  constructor(options: OpenAiSttOptions) {
    this.client = createOpenAiClient(options);
    this.model = options.model ?? DEFAULT_MODEL;
    this.segmentTimes = options.segmentTimes ?? !answersTextOnly(this.model);
    this.maxFileBytes = options.maxFileBytes ?? MAX_AUDIO_BYTES;
  }

  info(): SttInfo {
    return { provider: PROVIDER, model: this.model };
  }

  /** True when the server answers and serves the configured model. */
  isAvailable(): Promise<boolean> {
    return openAiServesModel(this.client, this.model);
  }

  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    const { signal } = options;
    const sizeBytes = audio.bytes.byteLength;
    if (sizeBytes === 0) throw badRequest('openai: the audio is empty');
    if (sizeBytes > this.maxFileBytes) {
      throw badRequest(`openai: the audio is ${sizeBytes} bytes; the limit is ${this.maxFileBytes} bytes per file`);
    }
    let language: string;
    try {
      language = toIso6391(options.language);
    } catch (error) {
      throw badRequest(`openai: language "${options.language}" has no ISO 639-1 code`, error);
    }
    if (signal?.aborted) throw new ProviderError('openai: call aborted', { kind: 'aborted', provider: PROVIDER });

    let response: unknown;
    try {
      const file = await toFile(audio.bytes, audio.fileName ?? `audio.${extensionOf(audio.mimeType)}`, { type: audio.mimeType });
      const format = this.segmentTimes
        ? { response_format: 'verbose_json' as const, timestamp_granularities: ['segment' as const] }
        : { response_format: 'json' as const };
      response = await this.client.audio.transcriptions.create(
        { file, model: this.model, language, temperature: 0, ...format },
        signal ? { signal } : undefined,
      );
    } catch (error) {
      throw classifyOpenAiError(error, PROVIDER, signal);
    }
    const parsed = parseResponse(response);
    if (parsed.segments !== undefined) return withSegments(parsed, language);
    return withOneSegment(parsed, language, await durationOf(audio, parsed));
  }
}

function parseResponse(response: unknown): SttResponse {
  // A server that ignores response_format may answer plain text.
  if (typeof response === 'string') return { text: response };
  const parsed = responseSchema.safeParse(response);
  if (!parsed.success) {
    throw new ProviderError('openai: the transcription response has no text', { kind: 'server', provider: PROVIDER, cause: parsed.error });
  }
  return parsed.data;
}

function withSegments(response: SttResponse, requested: string): Transcription {
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

/** Text without times: one segment over the whole audio. */
function withOneSegment(response: SttResponse, requested: string, durationMs: number): Transcription {
  const text = response.text.trim();
  return {
    text,
    segments: text !== '' && durationMs > 0 ? [{ startMs: 0, endMs: durationMs, text }] : [],
    language: reportedLanguage(response.language, requested),
    durationMs,
  };
}

/** The server's duration, else the WAV header's, else ffprobe's; 0 when none can tell. */
async function durationOf(audio: AudioInput, response: SttResponse): Promise<number> {
  if (response.duration !== undefined) return Math.round(response.duration * 1000);
  const wav = readWavInfo(audio.bytes);
  if (wav && wav.dataBytes > 0) return Math.round(wav.durationMs);
  try {
    return (await probeAudio(audio.bytes)).durationMs;
  } catch {
    return 0;
  }
}

/** Whisper names the language ("portuguese") or codes it ("pt"); unknown → the requested code. */
function reportedLanguage(name: string | undefined, requested: string): string {
  if (name === undefined || name.trim() === '') return requested;
  try {
    return fromWhisperLanguageName(name);
  } catch {
    return requested;
  }
}

function extensionOf(mimeType: string): string {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return EXTENSIONS[base] ?? (base.split('/')[1] || 'bin');
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function badRequest(message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider: PROVIDER, cause });
}
