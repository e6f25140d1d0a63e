// LlmProvider on any OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, llama.cpp…)
// through the openai package. Text in, text out: `acceptsAudio` is false (the speech-native
// provider is the one that sends audio). Servers that run reasoning models may put
// `<think>…</think>` in the text or a `reasoning_content` field: only the answer is kept.
import type { OpenAI } from 'openai';
import type { AudioInput } from '../ports/audio.js';
import type { ChatMessage, GenerateOptions, Generation, LlmInfo, LlmProvider, TokenUsage } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { ThinkTagFilter } from './groq-llm.js';
import { createOpenAiClient, isOpenAiHosted, openAiServesModel, type OpenAiClientOptions } from './openai-client.js';
import { classifyOpenAiError } from './openai-errors.js';
import { ProviderError } from './provider-error.js';

/** `max_completion_tokens` is OpenAI's current name; most other servers read `max_tokens`. */
export type MaxTokensField = 'max_tokens' | 'max_completion_tokens';

export interface OpenAiLlmOptions extends OpenAiClientOptions {
  /** Default `gpt-4o-mini`. */
  model?: string;
  /** Default: `max_completion_tokens` on OpenAI's own API, `max_tokens` elsewhere. */
  maxTokensField?: MaxTokensField;
}

const PROVIDER = 'openai';
const DEFAULT_MODEL = 'gpt-4o-mini';

interface WireMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export class OpenAiLlmProvider implements LlmProvider {
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly maxTokensField: MaxTokensField;

  constructor(options: OpenAiLlmOptions) {
    this.client = createOpenAiClient(options);
    this.model = options.model ?? DEFAULT_MODEL;
    this.maxTokensField = options.maxTokensField ?? (isOpenAiHosted(options.baseURL) ? 'max_completion_tokens' : 'max_tokens');
  }

  info(): LlmInfo {
    return { provider: PROVIDER, model: this.model, supportsStreaming: true, acceptsAudio: false };
  }

  /** True when the server answers and serves the configured model. */
  isAvailable(): Promise<boolean> {
    return openAiServesModel(this.client, this.model);
  }

  async generate(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    const { signal } = options;
    try {
      const completion = await this.client.chat.completions.create(
        { ...this.body(prompt, options), stream: false },
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
        { ...this.body(prompt, options), stream: true, stream_options: { include_usage: true } },
        signal ? { signal } : undefined,
      );
      let usage: WireUsage | undefined;
      for await (const chunk of chunks) {
        throwIfAborted(signal);
        // With include_usage, the last chunk carries the counts (and no choices).
        usage = chunk.usage ?? usage;
        const text = filter.push(chunk.choices[0]?.delta.content ?? '');
        if (text !== '') yield text;
      }
      // A stream cut by an abort may end quietly; the caller must still learn it was cut short.
      throwIfAborted(signal);
      if (usage) options.onUsage?.(toUsage(usage));
      const rest = filter.flush();
      if (rest !== '') yield rest;
    } catch (error) {
      throw classifyOpenAiError(error, PROVIDER, signal);
    }
  }

  supportsTranscription(): boolean {
    return false;
  }

  transcribe(_audio: AudioInput, _options: TranscribeOptions): Promise<Transcription> {
    return Promise.reject(this.noAudio());
  }

  private body(prompt: string, options: GenerateOptions) {
    if (options.audio) throw this.noAudio();
    const messages: WireMessage[] = [];
    if (options.systemPrompt) messages.push({ role: 'system', content: options.systemPrompt });
    for (const m of options.history ?? []) messages.push(toWire(m));
    messages.push({ role: 'user', content: prompt });
    return {
      model: this.model,
      messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { [this.maxTokensField]: options.maxTokens } : {}),
    };
  }

  private noAudio(): ProviderError {
    return new ProviderError(`openai: ${this.model} takes text; use the STT stage or VOXQ_LLM=speech-native`, {
      kind: 'unsupported',
      provider: PROVIDER,
    });
  }
}

/** Exactly role and content: strict servers reject extra properties on messages. */
function toWire(message: ChatMessage): WireMessage {
  return { role: message.role, content: message.content };
}

function toUsage(usage: WireUsage): TokenUsage {
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError('openai: call aborted', { kind: 'aborted', provider: PROVIDER });
}
