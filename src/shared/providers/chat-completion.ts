// What a chat completion from groq-sdk and one from openai have in common (both SDKs come from the
// same generator): the answer of a whole completion and of a stream, with `<think>…</think>`
// dropped, and the token counts. Only `content` is read: reasoning fields (`reasoning`,
// `reasoning_content`) are dropped on purpose, so they never reach TTS or the history.
import type { Generation, TokenUsage } from '../ports/llm-provider.js';
import { ThinkTagFilter } from './think-tag-filter.js';

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

interface Completion {
  model: string;
  choices: readonly { message: { content: string | null }; finish_reason: string | null }[];
  usage?: WireUsage | null;
}

interface CompletionChunk {
  choices: readonly { delta: { content?: string | null } }[];
}

export interface AnswerStreamOptions<C> {
  /** The counts a chunk carries, where its SDK puts them. */
  usageOf: (chunk: C) => WireUsage | null | undefined;
  /** Throws when the caller aborted: checked on each chunk and at the end (an aborted stream may end quietly). */
  throwIfAborted: () => void;
  onUsage?: ((usage: TokenUsage) => void) | undefined;
}

/** A whole completion's answer; `model` where the server names none. */
export function generationOf(completion: Completion, model: string): Generation {
  const choice = completion.choices[0];
  const filter = new ThinkTagFilter();
  return {
    text: filter.push(choice?.message.content ?? '') + filter.flush(),
    model: completion.model || model,
    ...(completion.usage ? { usage: toUsage(completion.usage) } : {}),
    ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
  };
}

/** A streamed completion's answer, piece by piece; the last counts seen go to `onUsage` once it ends. */
export async function* answerPieces<C extends CompletionChunk>(chunks: AsyncIterable<C>, options: AnswerStreamOptions<C>): AsyncIterable<string> {
  const filter = new ThinkTagFilter();
  let usage: WireUsage | null | undefined;
  for await (const chunk of chunks) {
    options.throwIfAborted();
    usage = options.usageOf(chunk) ?? usage;
    const text = filter.push(chunk.choices[0]?.delta.content ?? '');
    if (text !== '') yield text;
  }
  options.throwIfAborted();
  if (usage) options.onUsage?.(toUsage(usage));
  const rest = filter.flush();
  if (rest !== '') yield rest;
}

function toUsage(usage: WireUsage): TokenUsage {
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}
