// LlmProvider for speech-native models (Ultravox style: audio in, text out) on an
// OpenAI-compatible chat completions server (vLLM serves Ultravox this way). It is the OpenAI
// LLM with one difference in the request: the turn's audio rides in the last user message as an
// `input_audio` part (WAV or MP3; any other format is converted to WAV with ffmpeg first), after
// the system prompt and the session's history. Where the server also serves
// audio/transcriptions for the model, transcribe() uses it.
import type { ChatCompletionContentPart } from 'openai/resources/chat/completions';
import { toWav } from '../audio/to-wav.js';
import type { AudioInput } from '../ports/audio.js';
import type { GenerateOptions, LlmInfo } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { baseMimeType, knownExtension } from './audio-extension.js';
import type { OpenAiClientOptions } from './openai-client.js';
import { OpenAiLlmProvider, type UserContent } from './openai-llm.js';
import { OpenAiSttProvider } from './openai-stt.js';
import { ProviderError } from './provider-error.js';

export interface SpeechNativeLlmOptions extends OpenAiClientOptions {
  /** Default `fixie-ai/ultravox-v0_5-llama-3_1-8b`. */
  model?: string;
  /** The server also serves audio/transcriptions for this model (default false). */
  transcribes?: boolean;
  /** ffmpeg binary, for audio that is neither WAV nor MP3 (default `ffmpeg`). */
  ffmpeg?: string;
}

export const SPEECH_NATIVE_PROVIDER = 'speech-native';
export const DEFAULT_SPEECH_LLM_MODEL = 'fixie-ai/ultravox-v0_5-llama-3_1-8b';
const PROVIDER = SPEECH_NATIVE_PROVIDER;

/** A speech-native model (Ultravox-style, OpenAI-compatible audio input) as an LlmProvider: the user's audio goes straight to the model, STT skipped. */
export class SpeechNativeLlmProvider extends OpenAiLlmProvider {
  private readonly stt: OpenAiSttProvider | undefined;
  private readonly ffmpeg: string | undefined;

  constructor(options: SpeechNativeLlmOptions) {
    const { transcribes, ffmpeg, ...server } = options;
    super({ ...server, model: options.model ?? DEFAULT_SPEECH_LLM_MODEL, provider: PROVIDER });
    // Plain json: servers that transcribe with a speech LLM rarely give segment times. Its
    // errors name this provider, not `openai`.
    this.stt = transcribes ? new OpenAiSttProvider({ ...server, model: this.model, segmentTimes: false, provider: PROVIDER }) : undefined;
    this.ffmpeg = ffmpeg;
  }

  override info(): LlmInfo {
    return { ...super.info(), acceptsAudio: true };
  }

  override supportsTranscription(): boolean {
    return this.stt !== undefined;
  }

  override transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    if (!this.stt) {
      return Promise.reject(
        new ProviderError(`${PROVIDER}: ${this.model} is not served for audio/transcriptions here (set VOXQ_SPEECH_LLM_TRANSCRIBES=true if it is)`, {
          kind: 'unsupported',
          provider: PROVIDER,
        }),
      );
    }
    return this.stt.transcribe(audio, options);
  }

  /** With audio: the prompt as a text part (when there is one), then the audio as an `input_audio` part. */
  protected override async userContent(prompt: string, options: GenerateOptions): Promise<UserContent> {
    if (!options.audio) return prompt;
    const parts: ChatCompletionContentPart[] = prompt.trim() === '' ? [] : [{ type: 'text', text: prompt }];
    parts.push(await this.inputAudio(options.audio, options.signal));
    return parts;
  }

  /** WAV and MP3 as they are, anything else converted to WAV. */
  private async inputAudio(audio: AudioInput, signal: AbortSignal | undefined): Promise<ChatCompletionContentPart> {
    if (audio.bytes.byteLength === 0) throw badRequest(`${PROVIDER}: the audio is empty`);
    const extension = knownExtension(audio.mimeType);
    if (extension === 'wav' || extension === 'mp3') return inputAudioPart(audio.bytes, extension);
    let wav: Uint8Array;
    try {
      wav = await toWav(audio.bytes, { ...(this.ffmpeg ? { ffmpeg: this.ffmpeg } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      this.throwIfAborted(signal);
      throw badRequest(`${PROVIDER}: ${baseMimeType(audio.mimeType) || 'the audio'} is neither WAV nor MP3 and could not be converted to WAV`, error);
    }
    return inputAudioPart(wav, 'wav');
  }
}

function inputAudioPart(bytes: Uint8Array, format: 'wav' | 'mp3'): ChatCompletionContentPart {
  return { type: 'input_audio', input_audio: { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), format } };
}

function badRequest(message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider: PROVIDER, cause });
}
