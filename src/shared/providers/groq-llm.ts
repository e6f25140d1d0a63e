// LlmProvider on Groq's chat completions (groq-sdk). gpt-oss models reason before answering:
// voxq asks Groq to hide that reasoning and, defensively, drops any that still arrives (a
// `reasoning` field, or `<think>…</think>` in the text), so it never reaches TTS or the history.
import type { Groq } from 'groq-sdk';
import { createGroqClient, groqServesModel, type GroqClientOptions } from './groq-client.js';
import type { AudioInput } from '../ports/audio.js';
import type { ChatMessage, GenerateOptions, Generation, LlmInfo, LlmProvider } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
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
      const choice = completion.choices[0];
      // Only `content`: `message.reasoning` is dropped on purpose.
      const filter = new ThinkTagFilter();
      const text = filter.push(choice?.message.content ?? '') + filter.flush();
      return {
        text,
        model: completion.model,
        ...(completion.usage
          ? { usage: { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } }
          : {}),
        ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
      };
    } catch (error) {
      throw classifyGroqError(error, PROVIDER, signal);
    }
  }

  async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { signal } = options;
    const filter = new ThinkTagFilter();
    try {
      const chunks = await this.client.chat.completions.create(
        { ...this.body(prompt, options), stream: true },
        signal ? { signal } : undefined,
      );
      let usage: { prompt_tokens: number; completion_tokens: number } | null | undefined;
      for await (const chunk of chunks) {
        throwIfAborted(signal);
        // Groq reports usage in the last chunk's x_groq.
        usage = chunk.x_groq?.usage ?? usage;
        // Only `delta.content`: `delta.reasoning` is dropped on purpose.
        const text = filter.push(chunk.choices[0]?.delta.content ?? '');
        if (text !== '') yield text;
      }
      if (usage) options.onUsage?.({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens });
      // groq-sdk ends an aborted stream quietly; the caller must still learn it was cut short.
      throwIfAborted(signal);
      const rest = filter.flush();
      if (rest !== '') yield rest;
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

const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Removes `<think>…</think>` from text that arrives in pieces, whatever the cut points, and the
 * whitespace before the answer's first character. Feeding the whole text at once gives the same
 * output as feeding it piece by piece, so a stream concatenates to what generate() returns.
 */
export class ThinkTagFilter {
  private pending = '';
  private thinking = false;
  private started = false;

  push(piece: string): string {
    this.pending += piece;
    let out = '';
    for (;;) {
      const tag = this.thinking ? CLOSE : OPEN;
      const at = this.pending.indexOf(tag);
      if (at >= 0) {
        if (!this.thinking) out += this.pending.slice(0, at);
        this.pending = this.pending.slice(at + tag.length);
        this.thinking = !this.thinking;
        continue;
      }
      // Hold back a tail that could be the start of the tag.
      const keep = partialTagLength(this.pending, tag);
      if (!this.thinking) out += this.pending.slice(0, this.pending.length - keep);
      this.pending = this.pending.slice(this.pending.length - keep);
      break;
    }
    return this.emit(out);
  }

  /** What is left at the end: a held-back partial tag is text after all; unclosed reasoning is dropped. */
  flush(): string {
    const rest = this.thinking ? '' : this.pending;
    this.pending = '';
    return this.emit(rest);
  }

  private emit(text: string): string {
    if (this.started) return text;
    const trimmed = text.trimStart();
    if (trimmed !== '') this.started = true;
    return trimmed;
  }
}

function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n -= 1) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}
