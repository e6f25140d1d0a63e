// An LlmProvider for tests, the offline demo and benchmarks: scripted or deterministic pt-BR
// replies that show how much history arrived, with scripted latency and failures.
import type { AudioInput } from '../ports/audio.js';
import type { GenerateOptions, Generation, LlmInfo, LlmProvider } from '../ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../ports/stt-provider.js';
import { FakeScript, type FakeScriptOptions } from './fake-script.js';
import { ProviderError } from './provider-error.js';

export type FakeReplies = readonly string[] | ((prompt: string, options: GenerateOptions) => string);

export interface FakeLlmOptions extends FakeScriptOptions {
  /** A list used in order (then the default reply), or a function of the call. */
  replies?: FakeReplies;
  /** Default `fake-llm`. */
  model?: string;
  /** A speech-native fake: takes `options.audio` (default false: audio is refused, as a text model would). */
  acceptsAudio?: boolean;
  /** Set → supportsTranscription() is true and transcribe() answers this text. */
  transcript?: string | ((audio: AudioInput) => string);
}

export interface FakeLlmCall {
  prompt: string;
  options: GenerateOptions;
}

const PROVIDER = 'fake-llm';

/** The default reply: the prompt echoed (or the audio's size), and how many exchanges (user + assistant) of history came with it. */
export function defaultFakeReply(prompt: string, options: GenerateOptions = {}): string {
  const exchanges = Math.floor((options.history?.length ?? 0) / 2);
  const heard = options.audio ? `um áudio de ${options.audio.bytes.byteLength} bytes` : `"${prompt}"`;
  return `Entendi: ${heard}. Já conversamos ${exchanges} ${exchanges === 1 ? 'vez' : 'vezes'}.`;
}

/** An offline LlmProvider with scripted replies, latency and failures (429, 5xx, timeouts) for tests and demos. */
export class FakeLlmProvider implements LlmProvider {
  readonly script: FakeScript;
  /** The last call that reached the fake, whether or not it then failed. */
  lastCall: FakeLlmCall | undefined;
  /** What isAvailable() answers. */
  available = true;
  private readonly replies: FakeReplies | undefined;
  private readonly model: string;
  private readonly acceptsAudio: boolean;
  private readonly transcript: FakeLlmOptions['transcript'];
  private nextReply = 0;

  constructor(options: FakeLlmOptions = {}) {
    this.script = new FakeScript(PROVIDER, options);
    this.replies = options.replies;
    this.model = options.model ?? 'fake-llm';
    this.acceptsAudio = options.acceptsAudio ?? false;
    this.transcript = options.transcript;
  }

  info(): LlmInfo {
    return { provider: 'fake', model: this.model, supportsStreaming: true, acceptsAudio: this.acceptsAudio };
  }

  isAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  }

  async generate(prompt: string, options: GenerateOptions = {}): Promise<Generation> {
    const { tokens, finishReason } = await this.answer(prompt, options);
    return {
      text: tokens.join(''),
      model: this.model,
      usage: { inputTokens: inputTokens(prompt, options), outputTokens: tokens.length },
      finishReason,
    };
  }

  async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { tokens } = await this.answer(prompt, options);
    for (const token of tokens) {
      if (options.signal?.aborted) throw aborted();
      yield token;
    }
    if (options.signal?.aborted) throw aborted();
    options.onUsage?.({ inputTokens: inputTokens(prompt, options), outputTokens: tokens.length });
  }

  supportsTranscription(): boolean {
    return this.transcript !== undefined;
  }

  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    const { transcript } = this;
    if (transcript === undefined) throw new ProviderError(`${PROVIDER}: this model does not transcribe`, { kind: 'unsupported', provider: PROVIDER });
    await this.script.step(options.signal);
    if (options.signal?.aborted) throw aborted();
    const text = typeof transcript === 'function' ? transcript(audio) : transcript;
    const durationMs = Math.round(audio.bytes.byteLength / 32);
    return { text, segments: [{ startMs: 0, endMs: durationMs, text }], language: options.language, durationMs };
  }

  private async answer(prompt: string, options: GenerateOptions): Promise<{ tokens: string[]; finishReason: string }> {
    this.lastCall = { prompt, options };
    await this.script.step(options.signal);
    if (options.signal?.aborted) throw aborted();
    if (options.audio && !this.acceptsAudio) throw badRequest('this model does not take audio');
    // The same limits Groq enforces, so bad input fails here as it would there.
    if (options.temperature !== undefined && !(options.temperature >= 0 && options.temperature <= 2)) {
      throw badRequest('temperature must be between 0 and 2');
    }
    if (options.maxTokens !== undefined && !(Number.isInteger(options.maxTokens) && options.maxTokens > 0)) {
      throw badRequest('maxTokens must be a positive integer');
    }
    const tokens = wordTokens(this.reply(prompt, options));
    if (options.maxTokens !== undefined && tokens.length > options.maxTokens) {
      return { tokens: trimLast(tokens.slice(0, options.maxTokens)), finishReason: 'length' };
    }
    return { tokens, finishReason: 'stop' };
  }

  private reply(prompt: string, options: GenerateOptions): string {
    if (typeof this.replies === 'function') return this.replies(prompt, options);
    const scripted = this.replies?.[this.nextReply];
    if (scripted !== undefined) {
      this.nextReply += 1;
      return scripted;
    }
    return defaultFakeReply(prompt, options);
  }
}

/** Words with their trailing whitespace, so that the tokens concatenate to the text. */
function wordTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A reply cut at maxTokens ends at a word, not at the space after it. */
function trimLast(tokens: string[]): string[] {
  const last = tokens.length - 1;
  if (last >= 0) tokens[last] = (tokens[last] ?? '').trimEnd();
  return tokens;
}

function inputTokens(prompt: string, options: GenerateOptions): number {
  const texts = [options.systemPrompt ?? '', ...(options.history ?? []).map((m) => m.content), prompt];
  return texts.reduce((n, t) => n + wordTokens(t.trim()).length, 0);
}

function aborted(): ProviderError {
  return new ProviderError(`${PROVIDER}: call aborted`, { kind: 'aborted', provider: PROVIDER });
}

function badRequest(message: string): ProviderError {
  return new ProviderError(`${PROVIDER}: ${message}`, { kind: 'bad_request', provider: PROVIDER });
}
