// SttProvider on Groq's Whisper transcriptions (groq-sdk), verbose_json for segment times.
import { toFile, type Groq } from 'groq-sdk';
import { createGroqClient, groqServesModel, type GroqClientOptions } from './groq-client.js';
import { MAX_AUDIO_BYTES } from '../audio/probe.js';
import type { AudioInput } from '../ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { uploadFileName } from './audio-extension.js';
import { classifyGroqError } from './groq-errors.js';
import { toIso6391 } from './language.js';
import { ProviderError } from './provider-error.js';
import { fromVerboseJson, whisperResponseSchema, type WhisperResponse } from './whisper-response.js';

export interface GroqSttOptions extends GroqClientOptions {
  /** Default `whisper-large-v3-turbo`. */
  model?: string;
}

const PROVIDER = 'groq';
const DEFAULT_MODEL = 'whisper-large-v3-turbo';

/** Groq's Whisper (`whisper-large-v3-turbo` by default) as an SttProvider: `new GroqSttProvider({ apiKey, model?, baseURL? })`. */
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
      const file = await toFile(audio.bytes, uploadFileName(audio), { type: audio.mimeType });
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
      return fromVerboseJson(parseVerbose(response), language);
    } catch (error) {
      throw classifyGroqError(error, PROVIDER, signal);
    }
  }
}

function parseVerbose(response: unknown): WhisperResponse {
  const parsed = whisperResponseSchema.safeParse(response);
  if (!parsed.success) {
    throw new ProviderError('groq: the transcription response is not verbose_json', {
      kind: 'server',
      provider: PROVIDER,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function badRequest(message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider: PROVIDER, cause });
}
