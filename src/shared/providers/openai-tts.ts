// TtsProvider on any OpenAI-compatible speech API (OpenAI tts-1, Kokoro-FastAPI, openedai-speech…).
// The format announced is the configured one; the format returned is read from the bytes, so a
// server that answers something else is caught by the caller rather than mislabelled here.
// The text goes through the front end every TTS shares (spoken-text.ts) first.
import type { OpenAI } from 'openai';
import { probeAudio } from '../audio/probe.js';
import { fixWavHeader, readWavInfo } from '../audio/wav.js';
import type { AudioFormat, SynthesizedAudio } from '../ports/audio.js';
import type { SynthesizeOptions, TtsInfo, TtsProvider } from '../ports/tts-provider.js';
import { createOpenAiClient, openAiServesModel, type OpenAiClientOptions } from './openai-client.js';
import { classifyOpenAiError } from './openai-errors.js';
import { ProviderError } from './provider-error.js';
import { spokenText } from './spoken-text.js';

export type OpenAiSpeechFormat = 'wav' | 'mp3' | 'opus';

export interface OpenAiTtsOptions extends OpenAiClientOptions {
  /** Default `tts-1`. */
  model?: string;
  /** Default `wav` (16-bit PCM). */
  format?: OpenAiSpeechFormat;
  /** What the server speaks at; OpenAI and Kokoro-FastAPI: 24 000 (the default). Opus is always decoded at 48 000. */
  sampleRateHz?: number;
  /** voxq voice → the server's voice name; a voice not in the map is sent as it is (Kokoro-FastAPI takes `pf_dora`). */
  voiceMap?: Readonly<Record<string, string>>;
}

const PROVIDER = 'openai';
const DEFAULT_MODEL = 'tts-1';
/** OpenAI's accepted speed range. */
const MIN_SPEED = 0.25;
const MAX_SPEED = 4;

/** `voxqVoice:serverVoice[,…]` (VOXQ_OPENAI_TTS_VOICE_MAP) → a map. */
export function parseVoiceMap(text: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf(':');
    if (at <= 0) continue;
    const from = pair.slice(0, at).trim();
    const to = pair.slice(at + 1).trim();
    if (from !== '' && to !== '') map[from] = to;
  }
  return map;
}

export function speechFormat(format: OpenAiSpeechFormat, sampleRateHz: number): AudioFormat {
  switch (format) {
    case 'wav':
      return { container: 'wav', codec: 'pcm_s16le', sampleRateHz, channels: 1, mimeType: 'audio/wav' };
    case 'mp3':
      return { container: 'mp3', codec: 'mp3', sampleRateHz, channels: 1, mimeType: 'audio/mpeg' };
    case 'opus':
      return { container: 'ogg', codec: 'opus', sampleRateHz: 48_000, channels: 1, mimeType: 'audio/ogg' };
  }
}

/** Any OpenAI-compatible speech server as a TtsProvider: `new OpenAiTtsProvider({ apiKey?, baseURL?, model?, format?, voiceMap? })`. */
export class OpenAiTtsProvider implements TtsProvider {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly format: OpenAiSpeechFormat;
  private readonly announced: AudioFormat;
  private readonly voiceMap: Readonly<Record<string, string>>;

  constructor(options: OpenAiTtsOptions) {
    this.client = createOpenAiClient(options);
    this.model = options.model ?? DEFAULT_MODEL;
    this.format = options.format ?? 'wav';
    this.announced = speechFormat(this.format, options.sampleRateHz ?? 24_000);
    this.voiceMap = options.voiceMap ?? {};
  }

  info(): TtsInfo {
    return { provider: PROVIDER, model: this.model };
  }

  audioFormat(): AudioFormat {
    return { ...this.announced };
  }

  /** True when the server answers and serves the configured model. */
  isAvailable(): Promise<boolean> {
    return openAiServesModel(this.client, this.model);
  }

  async synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    const { signal } = options;
    if (signal?.aborted) throw new ProviderError('openai: synthesis aborted', { kind: 'aborted', provider: PROVIDER });
    if (text.trim() === '') throw badRequest('openai: nothing to say: the text is empty');
    if (!Number.isFinite(options.speed) || options.speed <= 0) {
      throw badRequest(`openai: speed must be a positive number (got ${options.speed})`);
    }
    let bytes: Uint8Array;
    try {
      const response = await this.client.audio.speech.create(
        {
          model: this.model,
          input: spokenText(text, options.language),
          voice: this.voiceMap[options.voice] ?? options.voice,
          speed: Math.min(MAX_SPEED, Math.max(MIN_SPEED, options.speed)),
          response_format: this.format,
        },
        signal ? { signal } : undefined,
      );
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw classifyOpenAiError(error, PROVIDER, signal);
    }
    return readSpeech(bytes);
  }
}

/** The audio's real format. A streamed WAV (OpenAI writes placeholder sizes) gets its header fixed. */
async function readSpeech(received: Uint8Array): Promise<SynthesizedAudio> {
  const bytes = readWavInfo(received) ? fixWavHeader(received) : received;
  try {
    const probed = await probeAudio(bytes);
    const { durationMs, ...format } = probed;
    return { bytes, format, durationMs: Math.round(durationMs) };
  } catch (cause) {
    throw new ProviderError('openai: the server sent no playable audio', { kind: 'server', provider: PROVIDER, cause });
  }
}

function badRequest(message: string): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider: PROVIDER });
}
