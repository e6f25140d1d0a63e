// LlmProvider for speech-native models (Ultravox style: audio in, text out) on an
// OpenAI-compatible chat completions server (vLLM serves Ultravox this way). The turn's audio
// rides in the last user message as an `input_audio` part (WAV or MP3; any other format is
// converted to WAV with ffmpeg first), after the system prompt and the session's history. Where
// the server also serves audio/transcriptions for the model, transcribe() uses it.
import type { OpenAI } from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { toWav } from '../audio/to-wav.js';
import type { AudioInput } from '../ports/audio.js';
import type { GenerateOptions, Generation, LlmInfo, LlmProvider, TokenUsage } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { ThinkTagFilter } from './groq-llm.js';
import { createOpenAiClient, isOpenAiHosted, openAiServesModel, type OpenAiClientOptions } from './openai-client.js';
import { classifyOpenAiError } from './openai-errors.js';
import type { MaxTokensField } from './openai-llm.js';
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

type InputAudioFormat = 'wav' | 'mp3';

const FORMATS: Readonly<Record<string, InputAudioFormat>> = {
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
};

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export class SpeechNativeLlmProvider implements LlmProvider {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly maxTokensField: MaxTokensField;
  private readonly stt: OpenAiSttProvider | undefined;
  private readonly ffmpeg: string | undefined;

  constructor(options: SpeechNativeLlmOptions) {
    this.client = createOpenAiClient(options);
    this.model = options.model ?? DEFAULT_SPEECH_LLM_MODEL;
    this.maxTokensField = isOpenAiHosted(options.baseURL) ? 'max_completion_tokens' : 'max_tokens';
    // Plain json: servers that transcribe with a speech LLM rarely give segment times.
    this.stt = options.transcribes ? new OpenAiSttProvider({ ...options, model: this.model, segmentTimes: false }) : undefined;
    this.ffmpeg = options.ffmpeg;
  }

  info(): LlmInfo {
    return { provider: PROVIDER, model: this.model, supportsStreaming: true, acceptsAudio: true };
  }

  /** True when the server answers and serves the configured model. */
  isAvailable(): Promise<boolean> {
    return openAiServesModel(this.client, this.model);
  }

  async generate(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    const { signal } = options;
    try {
      const completion = await this.client.chat.completions.create(
        { ...(await this.body(prompt, options)), stream: false },
        signal ? { signal } : undefined,
      );
      const choice = completion.choices[0];
      const filter = new ThinkTagFilter();
      const text = filter.push(choice?.message.content ?? '') + filter.flush();
      return {
        text,
        model: completion.model || this.model,
        ...(completion.usage ? { usage: toUsage(completion.usage) } : {}),
        ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
      };
    } catch (error) {
      throw classifyOpenAiError(error, PROVIDER, signal);
    }
  }

  async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { signal } = options;
    const filter = new ThinkTagFilter();
    try {
      const chunks = await this.client.chat.completions.create(
        { ...(await this.body(prompt, options)), stream: true, stream_options: { include_usage: true } },
        signal ? { signal } : undefined,
      );
      let usage: WireUsage | undefined;
      for await (const chunk of chunks) {
        throwIfAborted(signal);
        usage = chunk.usage ?? usage;
        const text = filter.push(chunk.choices[0]?.delta.content ?? '');
        if (text !== '') yield text;
      }
      throwIfAborted(signal);
      if (usage) options.onUsage?.(toUsage(usage));
      const rest = filter.flush();
      if (rest !== '') yield rest;
    } catch (error) {
      throw classifyOpenAiError(error, PROVIDER, signal);
    }
  }

  supportsTranscription(): boolean {
    return this.stt !== undefined;
  }

  transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
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

  private async body(prompt: string, options: GenerateOptions) {
    throwIfAborted(options.signal);
    const messages: ChatCompletionMessageParam[] = [];
    if (options.systemPrompt) messages.push({ role: 'system', content: options.systemPrompt });
    // Exactly role and content: strict servers reject extra properties on messages.
    for (const m of options.history ?? []) messages.push({ role: m.role, content: m.content });
    if (options.audio) {
      const parts: ChatCompletionContentPart[] = prompt.trim() === '' ? [] : [{ type: 'text', text: prompt }];
      parts.push(await this.inputAudio(options.audio, options.signal));
      messages.push({ role: 'user', content: parts });
    } else {
      messages.push({ role: 'user', content: prompt });
    }
    return {
      model: this.model,
      messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { [this.maxTokensField]: options.maxTokens } : {}),
    };
  }

  /** The audio as an `input_audio` part: WAV and MP3 as they are, anything else converted to WAV. */
  private async inputAudio(audio: AudioInput, signal: AbortSignal | undefined): Promise<ChatCompletionContentPart> {
    if (audio.bytes.byteLength === 0) throw badRequest(`${PROVIDER}: the audio is empty`);
    const base = audio.mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
    let format = FORMATS[base];
    let bytes = audio.bytes;
    if (format === undefined) {
      try {
        bytes = await toWav(audio.bytes, { ...(this.ffmpeg ? { ffmpeg: this.ffmpeg } : {}), ...(signal ? { signal } : {}) });
      } catch (error) {
        throwIfAborted(signal);
        throw badRequest(`${PROVIDER}: ${base || 'the audio'} is neither WAV nor MP3 and could not be converted to WAV`, error);
      }
      format = 'wav';
    }
    return { type: 'input_audio', input_audio: { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), format } };
  }
}

function toUsage(usage: WireUsage): TokenUsage {
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError(`${PROVIDER}: call aborted`, { kind: 'aborted', provider: PROVIDER });
}

function badRequest(message: string, cause?: unknown): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', provider: PROVIDER, cause });
}
