// LlmProvider on any OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, llama.cpp…)
// through the openai package. Text in, text out: `acceptsAudio` is false (the speech-native
// provider, a subclass that fills the last user message with audio, is the one that sends it).
// Servers that run reasoning models may put `<think>…</think>` in the text or a
// `reasoning_content` field: only the answer is kept.
import type { OpenAI } from 'openai';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AudioInput } from '../ports/audio.js';
import type { GenerateOptions, Generation, LlmInfo, LlmProvider } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { answerPieces, generationOf } from './chat-completion.js';
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
  /** The name in info() and errors; default `openai` (the speech-native provider passes its own). */
  provider?: string;
}

/** The last user message's content: the prompt, or parts (text, audio). */
export type UserContent = string | ChatCompletionContentPart[];

const PROVIDER = 'openai';
const DEFAULT_MODEL = 'gpt-4o-mini';

/** Any OpenAI-compatible chat server (OpenAI, vLLM, llama.cpp, Ollama …) as an LlmProvider: `new OpenAiLlmProvider({ apiKey?, baseURL?, model? })`. */
export class OpenAiLlmProvider implements LlmProvider {
  protected readonly provider: string;
  protected readonly model: string;
  private readonly client: OpenAI;
  private readonly maxTokensField: MaxTokensField;

  constructor(options: OpenAiLlmOptions) {
    this.provider = options.provider ?? PROVIDER;
    this.client = createOpenAiClient(options, this.provider);
    this.model = options.model ?? DEFAULT_MODEL;
    this.maxTokensField = options.maxTokensField ?? (isOpenAiHosted(options.baseURL) ? 'max_completion_tokens' : 'max_tokens');
  }

  info(): LlmInfo {
    return { provider: this.provider, model: this.model, supportsStreaming: true, acceptsAudio: false };
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
      return generationOf(completion, this.model);
    } catch (error) {
      throw classifyOpenAiError(error, this.provider, signal);
    }
  }

  async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { signal } = options;
    try {
      const chunks = await this.client.chat.completions.create(
        { ...(await this.body(prompt, options)), stream: true, stream_options: { include_usage: true } },
        signal ? { signal } : undefined,
      );
      yield* answerPieces(chunks, {
        // With include_usage, the last chunk carries the counts (and no choices).
        usageOf: (chunk) => chunk.usage,
        throwIfAborted: () => this.throwIfAborted(signal),
        onUsage: options.onUsage,
      });
    } catch (error) {
      throw classifyOpenAiError(error, this.provider, signal);
    }
  }

  supportsTranscription(): boolean {
    return false;
  }

  transcribe(_audio: AudioInput, _options: TranscribeOptions): Promise<Transcription> {
    return Promise.reject(this.noAudio());
  }

  /** The last user message's content. Text only here: audio is refused before any request. */
  protected userContent(prompt: string, options: GenerateOptions): UserContent | Promise<UserContent> {
    if (options.audio) throw this.noAudio();
    return prompt;
  }

  protected throwIfAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new ProviderError(`${this.provider}: call aborted`, { kind: 'aborted', provider: this.provider });
  }

  private async body(prompt: string, options: GenerateOptions) {
    this.throwIfAborted(options.signal);
    const messages: ChatCompletionMessageParam[] = [];
    if (options.systemPrompt) messages.push({ role: 'system', content: options.systemPrompt });
    // Exactly role and content: strict servers reject extra properties on messages.
    for (const m of options.history ?? []) messages.push({ role: m.role, content: m.content });
    messages.push({ role: 'user', content: await this.userContent(prompt, options) });
    return {
      model: this.model,
      messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { [this.maxTokensField]: options.maxTokens } : {}),
    };
  }

  private noAudio(): ProviderError {
    return new ProviderError(`${this.provider}: ${this.model} takes text; use the STT stage or VOXQ_LLM=speech-native`, {
      kind: 'unsupported',
      provider: this.provider,
    });
  }
}
