// The stand-in's chat completions, Groq's and OpenAI's (plain and SSE): what it rejects as they
// do, and deterministic answers. gpt-oss models "reason" first (a marker that must never reach an
// answer); speech-native models hear their `input_audio` parts as transcripts (standin-audio-chat.ts).
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { contentText, readContentParts, type ChatAudio } from './standin-audio-chat.js';
import { HttpFailure, isRecord, parseJsonObject, sendJson, wordPieces, type Flavor, type StandinMessage, type StandinRequest } from './standin-http.js';
import { CHAT_MODELS, checkModel } from './standin-models.js';

/** What the stand-in's gpt-oss "thinks": a marker that must never reach an answer. */
export const STANDIN_REASONING = 'RACIOCINIO-INTERNO: o usuário quer uma resposta curta em português.';

export interface StandinChatOptions {
  /** The answer to a chat; default `Resposta <prior messages seen>: <last user message>`. */
  reply?: (messages: StandinMessage[]) => string;
  /** gpt-oss reasoning, sent in `reasoning` whatever reasoning_format says; default STANDIN_REASONING. */
  reasoning?: (messages: StandinMessage[]) => string;
  /** Also put `<think>reasoning</think>` at the start of the answer text. */
  thinkTagsInContent?: boolean;
  /** Stream the answer in pieces of this many characters (default: word by word). */
  chunkChars?: number;
}

export interface ChatRequest {
  endpoint: 'chat';
  model: string;
  messages: StandinMessage[];
  /** input_audio parts, heard as their transcript when answering. */
  audio: ChatAudio[];
  stream: boolean;
  includeUsage: boolean;
  maxCompletionTokens?: number;
  reasoningFormat?: string;
}

/** The default chat answer: how many messages came before the last one (system excluded), and that message. */
export function defaultStandinReply(messages: readonly StandinMessage[]): string {
  const dialogue = messages.filter((m) => m.role !== 'system');
  const last = dialogue[dialogue.length - 1];
  return `Resposta ${Math.max(0, dialogue.length - 1)}: ${last?.content ?? ''}`;
}

const MESSAGE_KEYS = new Set(['role', 'content', 'name']);
const ROLES = new Set(['system', 'user', 'assistant']);

/** Fills the log entry first (so tests see what arrived), then rejects what the API would. */
export function parseChat(body: Buffer, entry: StandinRequest, flavor: Flavor): ChatRequest {
  const json = parseJsonObject(body);
  const model = json.model;
  if (typeof model === 'string') entry.model = model;
  const rawMessages = json.messages;
  if (Array.isArray(rawMessages)) {
    entry.messages = rawMessages.filter(isRecord).map((m) => ({ role: String(m.role), content: contentText(m.content) }));
  }
  entry.stream = json.stream === true;
  if (typeof json.temperature === 'number') entry.temperature = json.temperature;
  const maxTokensField = json.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = json[maxTokensField];
  if (typeof maxTokens === 'number') {
    entry.maxCompletionTokens = maxTokens;
    entry.maxTokensField = maxTokensField;
  }
  if (typeof json.reasoning_effort === 'string') entry.reasoningEffort = json.reasoning_effort;
  if (typeof json.reasoning_format === 'string') entry.reasoningFormat = json.reasoning_format;

  if (typeof model !== 'string' || model === '') throw new HttpFailure(400, "'model' : property 'model' is missing");
  checkModel(model, flavor, 'chat');
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
    throw new HttpFailure(400, "'messages' : minimum number of items is 1");
  }
  const audio: ChatAudio[] = [];
  rawMessages.forEach((m: unknown, i) => {
    if (!isRecord(m)) throw new HttpFailure(400, `'messages.${i}' : value must be an object`);
    for (const key of Object.keys(m)) {
      if (!MESSAGE_KEYS.has(key)) throw new HttpFailure(400, `'messages.${i}' : property '${key}' is unsupported`);
    }
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw new HttpFailure(400, `'messages.${i}.role' : value is not one of the allowed values`);
    if (typeof m.content === 'string') return;
    if (!Array.isArray(m.content) || flavor !== 'openai') throw new HttpFailure(400, `'messages.${i}.content' : value must be a string`);
    const parts = readContentParts(m.content, i, m.role, model);
    if (parts.problem !== undefined) throw new HttpFailure(400, parts.problem);
    audio.push(...parts.audio);
  });
  if (audio.length > 0) entry.inputAudio = audio.map(({ bytes: _bytes, ...logged }) => logged);
  if (json.temperature !== undefined && !(typeof json.temperature === 'number' && json.temperature >= 0 && json.temperature <= 2)) {
    throw new HttpFailure(400, "'temperature' : number must be at most 2");
  }
  if (maxTokens !== undefined && !(typeof maxTokens === 'number' && Number.isInteger(maxTokens) && maxTokens > 0)) {
    throw new HttpFailure(400, "'max_completion_tokens' : number must be at least 1");
  }
  const effort = json.reasoning_effort;
  if (effort !== undefined && !(typeof effort === 'string' && ['low', 'medium', 'high'].includes(effort))) {
    throw new HttpFailure(400, "'reasoning_effort' : value is not one of the allowed values");
  }
  const format = json.reasoning_format;
  if (format !== undefined) {
    if (!(typeof format === 'string' && ['parsed', 'raw', 'hidden'].includes(format))) {
      throw new HttpFailure(400, "'reasoning_format' : value is not one of the allowed values");
    }
    if (json.include_reasoning !== undefined) {
      throw new HttpFailure(400, 'reasoning_format and include_reasoning cannot be used together');
    }
  }
  const streamOptions = json.stream_options;
  entry.includeUsage = isRecord(streamOptions) && streamOptions.include_usage === true;
  return {
    endpoint: 'chat',
    model,
    messages: entry.messages ?? [],
    audio,
    stream: entry.stream,
    includeUsage: entry.includeUsage,
    ...(entry.maxCompletionTokens !== undefined ? { maxCompletionTokens: entry.maxCompletionTokens } : {}),
    ...(entry.reasoningFormat !== undefined ? { reasoningFormat: entry.reasoningFormat } : {}),
  };
}

/** The messages as a speech-native model hears them: each audio part as its transcript, after the message's text. */
export function heardMessages(request: ChatRequest, transcriptOf: (audio: ChatAudio) => string): StandinMessage[] {
  return request.messages.map((m, i) => {
    const said = request.audio.filter((a) => a.message === i).map(transcriptOf);
    return said.length === 0 ? m : { role: m.role, content: [m.content, ...said].filter((t) => t !== '').join(' ') };
  });
}

/**
 * Answers `messages` (as heard) plainly or as SSE, in the flavor's shape. `streamError`: send one
 * content chunk, then the API's in-stream error object.
 */
export async function sendChat(
  res: ServerResponse,
  request: ChatRequest,
  messages: StandinMessage[],
  flavor: Flavor,
  options: StandinChatOptions,
  streamError = false,
): Promise<void> {
  const { model } = request;
  const reasoning = CHAT_MODELS.includes(model) ? (options.reasoning?.(messages) ?? STANDIN_REASONING) : undefined;
  let words = wordPieces(options.reply?.(messages) ?? defaultStandinReply(messages));
  let finishReason: 'stop' | 'length' = 'stop';
  if (request.maxCompletionTokens !== undefined && words.length > request.maxCompletionTokens) {
    words = words.slice(0, request.maxCompletionTokens);
    const last = words.length - 1;
    if (last >= 0) words[last] = (words[last] ?? '').trimEnd();
    finishReason = 'length';
  }
  const answer = words.join('');
  const thinkTags = reasoning !== undefined && (options.thinkTagsInContent === true || request.reasoningFormat === 'raw');
  const content = thinkTags ? `<think>${reasoning}</think>\n\n${answer}` : answer;
  const promptTokens = messages.reduce((n, m) => n + wordPieces(m.content).length, 0);
  const usage = {
    queue_time: 0.01,
    prompt_tokens: promptTokens,
    prompt_time: 0.001,
    completion_tokens: words.length,
    completion_time: 0.01,
    total_tokens: promptTokens + words.length,
    total_time: 0.011,
  };
  const id = `chatcmpl-${randomUUID()}`;
  const requestId = `req_${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const base = { id, created, model, system_fingerprint: 'fp_standin' };
  const groq = flavor === 'groq';

  if (!request.stream) {
    sendJson(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, ...(reasoning !== undefined ? { reasoning } : {}) },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
      ...(groq ? { usage_breakdown: null, x_groq: { id: requestId } } : {}),
    });
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  });
  const send = async (data: unknown): Promise<boolean> => {
    if (res.destroyed) return false;
    res.write(`data: ${JSON.stringify(data)}\n\n`);
    // Let each chunk leave on its own, as a real stream does.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return !res.destroyed;
  };
  if (!(await send(chunk({ role: 'assistant', content: '' }, null, groq ? { x_groq: { id: requestId } } : {})))) return;
  for (const piece of reasoning !== undefined ? wordPieces(reasoning) : []) {
    if (!(await send(chunk({ reasoning: piece }, null)))) return;
  }
  const pieces = options.chunkChars ? charPieces(content, options.chunkChars) : wordPieces(content);
  for (const [i, piece] of pieces.entries()) {
    if (!(await send(chunk({ content: piece }, null)))) return;
    if (streamError && i === 0) {
      await send({ error: { message: 'Service Unavailable', type: 'internal_server_error' } });
      res.end();
      return;
    }
  }
  if (groq) {
    const final = chunk({}, finishReason, { x_groq: { id: requestId, usage }, ...(request.includeUsage ? { usage } : {}) });
    if (!(await send(final))) return;
  } else {
    // OpenAI: the finish chunk, then (include_usage) one more chunk with no choices and the usage.
    if (!(await send(chunk({}, finishReason, request.includeUsage ? { usage: null } : {})))) return;
    if (request.includeUsage && !(await send({ ...base, object: 'chat.completion.chunk', choices: [], usage }))) return;
  }
  res.end('data: [DONE]\n\n');
}

function charPieces(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}
