// SttProvider on any OpenAI-compatible transcriptions API (OpenAI whisper-1, a faster-whisper or
// whisper.cpp server…). verbose_json gives segment times where the model supports it; models
// that answer only plain text (gpt-4o-transcribe) give one segment over the whole audio.
import { toFile, type OpenAI } from 'openai';
import { MAX_AUDIO_BYTES, probeAudio } from '../audio/probe.js';
import { readWavInfo } from '../audio/wav.js';
import type { AudioInput } from '../ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { uploadFileName } from './audio-extension.js';
import { createOpenAiClient, openAiServesModel, type OpenAiClientOptions } from './openai-client.js';
import { classifyOpenAiError } from './openai-errors.js';
import { toIso6391 } from './language.js';
import { ProviderError } from './provider-error.js';
import { fromVerboseJson, reportedLanguage, whisperResponseSchema, type WhisperResponse } from './whisper-response.js';

export interface OpenAiSttOptions extends OpenAiClientOptions {
  /** Default `whisper-1`. */
  model?: string;
  /** Ask for verbose_json (segment times). Default: true, except for gpt-4o*-transcribe models. */
  segmentTimes?: boolean;
  /** Largest file sent; default 25 MB (OpenAI's limit). */
  maxFileBytes?: number;
  /** The name in info() and errors; default `openai` (the speech-native LLM transcribes through this class under its own). */
  provider?: string;
}

const PROVIDER = 'openai';
const DEFAULT_MODEL = 'whisper-1';

/** Models that answer only json/text (no segments). */
export function answersTextOnly(model: string): boolean {
  return /^gpt-4o.*transcribe/.test(model);
}

/** Any OpenAI-compatible transcription server as an SttProvider: `new OpenAiSttProvider({ apiKey?, baseURL?, model? })`. */
export class OpenAiSttProvider implements SttProvider {
  private readonly provider: string;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly segmentTimes: boolean;
  private readonly maxFileBytes: number;

  constructor(options: OpenAiSttOptions) {
    this.provider = options.provider ?? PROVIDER;
    this.client = createOpenAiClient(options, this.provider);
    this.model = options.model ?? DEFAULT_MODEL;
    this.segmentTimes = options.segmentTimes ?? !answersTextOnly(this.model);
    this.maxFileBytes = options.maxFileBytes ?? MAX_AUDIO_BYTES;
  }

  info(): SttInfo {
    return { provider: this.provider, model: this.model };
  }

  /** True when the server answers and serves the configured model. */
  isAvailable(): Promise<boolean> {
    return openAiServesModel(this.client, this.model);
  }

  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    const { signal } = options;
    const sizeBytes = audio.bytes.byteLength;
    const { provider } = this;
    if (sizeBytes === 0) throw badRequest(provider, `${provider}: the audio is empty`);
    if (sizeBytes > this.maxFileBytes) {
      throw badRequest(provider, `${provider}: the audio is ${sizeBytes} bytes; the limit is ${this.maxFileBytes} bytes per file`);
    }
    let language: string;
    try {
      language = toIso6391(options.language);
    } catch (error) {
      throw badRequest(provider, `${provider}: language "${options.language}" has no ISO 639-1 code`, error);
    }
    if (signal?.aborted) throw new ProviderError(`${provider}: call aborted`, { kind: 'aborted', provider });

    let response: unknown;
    try {
      const file = await toFile(audio.bytes, uploadFileName(audio), { type: audio.mimeType });
      const format = this.segmentTimes
        ? { response_format: 'verbose_json' as const, timestamp_granularities: ['segment' as const] }
        : { response_format: 'json' as const };
      response = await this.client.audio.transcriptions.create(
        { file, model: this.model, language, temperature: 0, ...format },
        signal ? { signal } : undefined,
      );
    } catch (error) {
      throw classifyOpenAiError(error, provider, signal);
    }
    const parsed = parseResponse(response, provider);
    if (parsed.segments !== undefined) return fromVerboseJson(parsed, language);
    return withOneSegment(parsed, language, await durationOf(audio, parsed));
  }
}

function parseResponse(response: unknown, provider: string): WhisperResponse {
  // A server that ignores response_format may answer plain text.
  if (typeof response === 'string') return { text: response };
  const parsed = whisperResponseSchema.safeParse(response);
  if (!parsed.success) {
    throw new ProviderError(`${provider}: the transcription response has no text`, { kind: 'server', provider, cause: parsed.error });
  }
  return parsed.data;
}

/** Text without times: one segment over the whole audio. */
function withOneSegment(response: WhisperResponse, requested: string, durationMs: number): Transcription {
  const text = response.text.trim();
  return {
    text,
    segments: text !== '' && durationMs > 0 ? [{ startMs: 0, endMs: durationMs, text }] : [],
    language: reportedLanguage(response.language, requested),
    durationMs,
  };
}

/** The server's duration, else the WAV header's, else ffprobe's; 0 when none can tell. */
async function durationOf(audio: AudioInput, response: WhisperResponse): Promise<number> {
  if (response.duration !== undefined) return Math.round(response.duration * 1000);
  const wav = readWavInfo(audio.bytes);
  if (wav && wav.dataBytes > 0) return Math.round(wav.durationMs);
  try {
    return (await probeAudio(audio.bytes)).durationMs;
  } catch {
    return 0;
  }
}

function badRequest(provider: string, message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider, cause });
}
