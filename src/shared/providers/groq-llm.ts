// LlmProvider on Groq's chat completions (groq-sdk). gpt-oss models reason before answering:
// voxq asks Groq to hide that reasoning and, defensively, drops any that still arrives (a
// `reasoning` field, or `<think>…</think>` in the text), so it never reaches TTS or the history.
import type { Groq } from 'groq-sdk';
import { createGroqClient, groqServesModel, type GroqClientOptions } from './groq-client.js';
import type { AudioInput } from '../ports/audio.js';
import type { ChatMessage, GenerateOptions, Generation, LlmInfo, LlmProvider } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { answerPieces, generationOf } from './chat-completion.js';
import { classifyGroqError } from './groq-errors.js';
import { ProviderError } from './provider-error.js';

export type ReasoningEffort = 'low' | 'medium' | 'high';

export interface GroqLlmOptions extends GroqClientOptions {
  /** Default `openai/gpt-oss-20b`. */
  model?: string;
  /** For reasoning models (gpt-oss); default `low`: voice wants a quick answer. */
  reasoningEffort?: ReasoningEffort;
}

const PROVIDER = 'groq';
const DEFAULT_MODEL = 'openai/gpt-oss-20b';

interface WireMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Groq's chat models (groq-sdk) as an LlmProvider: `new GroqLlmProvider({ apiKey, model?, reasoningEffort?, baseURL? })`; reasoning text never reaches the answer. */
export class GroqLlmProvider implements LlmProvider {
  private readonly client: Groq;
  private readonly model: string;
  private readonly reasoningEffort: ReasoningEffort;

  constructor(options: GroqLlmOptions) {
    this.client = createGroqClient(options);
    this.model = options.model ?? DEFAULT_MODEL;
    this.reasoningEffort = options.reasoningEffort ?? 'low';
  }

  info(): LlmInfo {
    return { provider: PROVIDER, model: this.model, supportsStreaming: true, acceptsAudio: false };
  }

  /** True when the key works and the configured model is served. */
  isAvailable(): Promise<boolean> {
    return groqServesModel(this.client, this.model);
  }

  async generate(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    const { signal } = options;
    try {
      const completion = await this.client.chat.completions.create(
        { ...this.body(prompt, options), stream: false },
        signal ? { signal } : undefined,
      );
      return generationOf(completion, this.model);
    } catch (error) {
      throw classifyGroqError(error, PROVIDER, signal);
    }
  }

  async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { signal } = options;
    try {
      const chunks = await this.client.chat.completions.create(
        { ...this.body(prompt, options), stream: true },
        signal ? { signal } : undefined,
      );
      yield* answerPieces(chunks, {
        // Groq reports usage in the last chunk's x_groq.
        usageOf: (chunk) => chunk.x_groq?.usage,
        // groq-sdk ends an aborted stream quietly; the caller must still learn it was cut short.
        throwIfAborted: () => throwIfAborted(signal),
        onUsage: options.onUsage,
      });
    } catch (error) {
      throw classifyGroqError(error, PROVIDER, signal);
    }
  }

  supportsTranscription(): boolean {
    return false;
  }

  transcribe(_audio: AudioInput, _options: TranscribeOptions): Promise<Transcription> {
    return Promise.reject(
      new ProviderError(`groq: ${this.model} does not take audio; use the STT stage`, { kind: 'unsupported', provider: PROVIDER }),
    );
  }

  private body(prompt: string, options: GenerateOptions) {
    const messages: WireMessage[] = [];
    if (options.systemPrompt) messages.push({ role: 'system', content: options.systemPrompt });
    // Exactly role and content: Groq rejects extra properties (such as `reasoning`) on messages.
    for (const m of options.history ?? []) messages.push(toWire(m));
    messages.push({ role: 'user', content: prompt });
    return {
      model: this.model,
      messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { max_completion_tokens: options.maxTokens } : {}),
      ...(isReasoningModel(this.model)
        ? { reasoning_effort: this.reasoningEffort, reasoning_format: 'hidden' as const }
        : {}),
    };
  }
}

function toWire(message: ChatMessage): WireMessage {
  return { role: message.role, content: message.content };
}

/** Models that take `reasoning_effort` low/medium/high. */
export function isReasoningModel(model: string): boolean {
  return model.startsWith('openai/gpt-oss');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError('groq: call aborted', { kind: 'aborted', provider: PROVIDER });
}
