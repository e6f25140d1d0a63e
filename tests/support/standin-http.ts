// What the stand-in's endpoints share: the request log entry each one fills as it parses, Groq's
// and OpenAI's error shape, and reading and answering bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StandinInputAudio } from './standin-audio-chat.js';

/** Which API a path belongs to: Groq's /openai/v1/… or OpenAI's /v1/…. */
export type Flavor = 'groq' | 'openai';

export interface StandinMessage {
  role: string;
  content: string;
}

export interface StandinRequest {
  method: string;
  path: string;
  /** The status answered; 0 while pending or when the client went away first. */
  status: number;
  /** Which API the path belongs to: Groq's /openai/v1/… or OpenAI's /v1/…. */
  flavor: Flavor;
  authorized: boolean;
  /** Whether an Authorization header came at all (a keyless client sends none). */
  hasAuthorization: boolean;
  bodyBytes: number;
  model?: string;
  // chat completions
  messages?: StandinMessage[];
  stream?: boolean;
  temperature?: number;
  maxCompletionTokens?: number;
  /** Which name carried it: max_completion_tokens or max_tokens. */
  maxTokensField?: string;
  includeUsage?: boolean;
  reasoningEffort?: string;
  reasoningFormat?: string;
  // transcriptions
  language?: string;
  responseFormat?: string;
  timestampGranularities?: string[];
  fileName?: string;
  fileType?: string;
  fileBytes?: number;
  // speech
  input?: string;
  voice?: string;
  speed?: number;
  /** Chat: the `input_audio` parts of the messages (speech-native models). */
  inputAudio?: StandinInputAudio[];
}

/** An error answer: thrown while parsing, sent as `{ error: { message, type, code } }`. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly type: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, failure: HttpFailure, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    failure.status,
    { error: { message: failure.message, type: failure.type, ...(failure.code ? { code: failure.code } : {}) } },
    headers,
  );
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'request body is not valid JSON');
  }
  if (!isRecord(json)) throw new HttpFailure(400, 'request body must be a JSON object');
  return json;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Words with the white space after them: a stream's pieces, and the stand-in's token count. */
export function wordPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
