// Seed: ILLMProvider (generate, get_model_info, is_available, supports_transcription, transcribe).
import type { AudioInput } from './audio.js';
import type { TranscribeOptions, Transcription } from './stt-provider.js';
import { z } from 'zod';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface GenerateOptions {
  systemPrompt?: string;
  temperature?: number;
  maxTokens?: number;
  /** Earlier messages of the session, oldest first; the prompt is appended as the last user message. */
  history?: readonly ChatMessage[];
  signal?: AbortSignal;
  /**
   * The user's turn as audio, for providers whose info().acceptsAudio is true (speech-native
   * models): sent in the chat request instead of a transcript; `prompt` may then be empty.
   */
  audio?: AudioInput;
  /** stream() only: called once when the stream ends, with the token counts the provider reported. */
  onUsage?: (usage: TokenUsage) => void;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface Generation {
  /** The answer only: reasoning text of reasoning models is never included. */
  text: string;
  model: string;
  usage?: TokenUsage;
  finishReason?: string;
}

export interface LlmInfo {
  provider: string;
  model: string;
  supportsStreaming: boolean;
  /** True when generate()/stream() accept `options.audio` (speech-native: audio in, text out). */
  acceptsAudio: boolean;
}

export interface LlmProvider {
  info(): LlmInfo;
  isAvailable(): Promise<boolean>;
  generate(prompt: string, options?: GenerateOptions): Promise<Generation>;
  /** Answer text as it arrives, in order; concatenated it equals generate()'s text. */
  stream(prompt: string, options?: GenerateOptions): AsyncIterable<string>;
  /** True for speech-native models that take audio directly. */
  supportsTranscription(): boolean;
  /** Throws ProviderError kind `unsupported` when supportsTranscription() is false. */
  transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription>;
}

export const llmInfoSchema = z.object({
  provider: z.string().min(1),
  model: z.string().min(1),
  supportsStreaming: z.boolean(),
  acceptsAudio: z.boolean(),
}) satisfies z.ZodType<LlmInfo>;

export const LLM_PROVIDER_PORT: PortSpec = {
  name: 'LlmProvider',
  methods: ['info', 'isAvailable', 'generate', 'stream', 'supportsTranscription', 'transcribe'],
  answers: { info: llmInfoSchema, supportsTranscription: z.boolean() },
};

/** Every method there, info() of the port's shape and supportsTranscription() a boolean. */
export function isLlmProvider(value: unknown): value is LlmProvider {
  return conformsTo(value, LLM_PROVIDER_PORT);
}
