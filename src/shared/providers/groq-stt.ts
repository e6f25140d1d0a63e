// SttProvider on Groq's Whisper transcriptions (groq-sdk), verbose_json for segment times.
import { toFile, type Groq } from 'groq-sdk';
import { createGroqClient, groqServesModel, type GroqClientOptions } from './groq-client.js';
import { z } from 'zod';
import { MAX_AUDIO_BYTES } from '../audio/probe.js';
import type { AudioInput } from '../ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription, TranscriptSegment } from '../ports/stt-provider.js';
import { classifyGroqError } from './groq-errors.js';
import { fromWhisperLanguageName, toIso6391 } from './language.js';
import { ProviderError } from './provider-error.js';

export interface GroqSttOptions extends GroqClientOptions {
  /** Default `whisper-large-v3-turbo`. */
  model?: string;
}

const PROVIDER = 'groq';
const DEFAULT_MODEL = 'whisper-large-v3-turbo';

// What verbose_json carries that voxq reads; anything else Groq adds is ignored.
const verboseSchema = z.object({
  text: z.string(),
  language: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  segments: z
    .array(
      z.object({
        start: z.number(),
        end: z.number(),
        text: z.string(),
        avg_logprob: z.number().optional(),
      }),
    )
    .optional(),
});

const EXTENSIONS: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
};

export class GroqSttProvider implements SttProvider {
  private readonly client: Groq;
  private readonly model: string;

  constructor(options: GroqSttOptions) {
    this.client = createGroqClient(options);
    this.model = options.model ?? DEFAULT_MODEL;
  }

  info(): SttInfo {
    return { provider: PROVIDER, model: this.model };
  }

  /** True when the key works and the configured model is served. */
  isAvailable(): Promise<boolean> {
    return groqServesModel(this.client, this.model);
  }

  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    const { signal } = options;
    const sizeBytes = audio.bytes.byteLength;
    if (sizeBytes === 0) throw badRequest('groq: the audio is empty');
    if (sizeBytes > MAX_AUDIO_BYTES) {
      throw badRequest(`groq: the audio is ${sizeBytes} bytes; Groq accepts at most 25 MB (${MAX_AUDIO_BYTES} bytes) per file`);
    }
    let language: string;
    try {
      language = toIso6391(options.language);
    } catch (error) {
      throw badRequest(`groq: language "${options.language}" has no ISO 639-1 code`, error);
    }
    if (signal?.aborted) throw new ProviderError('groq: call aborted', { kind: 'aborted', provider: PROVIDER });

    try {
      const file = await toFile(audio.bytes, audio.fileName ?? `audio.${extensionOf(audio.mimeType)}`, { type: audio.mimeType });
      const response: unknown = await this.client.audio.transcriptions.create(
        {
          file,
          model: this.model,
          language,
          response_format: 'verbose_json',
          timestamp_granularities: ['segment'],
          temperature: 0,
        },
        signal ? { signal } : undefined,
      );
      return toTranscription(parseVerbose(response), language);
    } catch (error) {
      throw classifyGroqError(error, PROVIDER, signal);
    }
  }
}

function parseVerbose(response: unknown): z.infer<typeof verboseSchema> {
  const parsed = verboseSchema.safeParse(response);
  if (!parsed.success) {
    throw new ProviderError('groq: the transcription response is not verbose_json', {
      kind: 'server',
      provider: PROVIDER,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function toTranscription(verbose: z.infer<typeof verboseSchema>, requested: string): Transcription {
  const segments: TranscriptSegment[] = (verbose.segments ?? [])
    .map((s) => ({
      startMs: Math.round(s.start * 1000),
      endMs: Math.round(s.end * 1000),
      text: s.text.trim(),
      ...(s.avg_logprob !== undefined ? { confidence: clamp01(Math.exp(s.avg_logprob)) } : {}),
    }))
    .sort((a, b) => a.startMs - b.startMs);
  const lastEndMs = segments.reduce((max, s) => Math.max(max, s.endMs), 0);
  return {
    text: verbose.text.trim(),
    segments,
    language: reportedLanguage(verbose.language, requested),
    durationMs: verbose.duration !== undefined ? Math.round(verbose.duration * 1000) : lastEndMs,
  };
}

/** Whisper names the language ("portuguese"); voxq reports its code, or the requested one if the name is unknown. */
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
