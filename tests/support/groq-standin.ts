// A local stand-in for Groq's OpenAI-style API, the part groq-sdk uses: transcriptions
// (multipart, verbose_json), chat completions (plain and SSE) and the model list. It rejects what
// Groq rejects, answers deterministically, and can be told to fail the next requests (429 with
// retry-after, 5xx, a hang, an error mid-stream). Give the SDK `s.url`: it appends /openai/v1/….
// The same server speaks OpenAI's API under /v1/… (`s.openaiUrl` for the openai package): the
// same endpoints with OpenAI's models and answer shapes, plus audio/speech (standin-speech.ts).
// This file is the server: routing, keys, the request log and failure injection. The endpoints
// live beside it: standin-chat.ts, standin-transcriptions.ts, standin-speech.ts, standin-models.ts.
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SPEECH_LLM_MODELS } from './standin-audio-chat.js';
import { heardMessages, parseChat, sendChat, type ChatRequest, type StandinChatOptions } from './standin-chat.js';
import { HttpFailure, parseJsonObject, readBody, sendError, sendJson, type Flavor, type StandinRequest } from './standin-http.js';
import { checkModel, modelList } from './standin-models.js';
import { speechProblem, synthesizeSpeech, TTS_MODELS, type SpeechRequest } from './standin-speech.js';
import {
  DEFAULT_STANDIN_TRANSCRIPT,
  parseTranscription,
  sendTranscription,
  sha256Hex,
  type StandinTranscriptionOptions,
  type TranscriptionRequest,
  type TranscriptMeta,
} from './standin-transcriptions.js';

export { STANDIN_REASONING, defaultStandinReply } from './standin-chat.js';
export type { Flavor, StandinMessage, StandinRequest } from './standin-http.js';
export { CHAT_MODELS, OPENAI_CHAT_MODELS, OPENAI_STT_MODELS, STT_MODELS } from './standin-models.js';
export { DEFAULT_STANDIN_TRANSCRIPT, STANDIN_MAX_FILE_BYTES, sha256Hex } from './standin-transcriptions.js';
export type { StandinSegment, TranscriptMeta } from './standin-transcriptions.js';
export { TTS_MODELS, SPEECH_LLM_MODELS };

export const STANDIN_API_KEY = 'gsk_standin_test_key';

export interface StandinFailure {
  /** Answer with this status (Groq's error JSON) instead of the real answer. */
  status?: number;
  /** `retry-after` in seconds. */
  retryAfterS?: number;
  /** `retry-after` verbatim (e.g. an HTTP date). */
  retryAfter?: string;
  /** `retry-after-ms`. */
  retryAfterMs?: number;
  /** Hold the response this long (before any header), then answer (or fail with `status`). */
  hangMs?: number;
  /** Streamed chat only: send one content chunk, then Groq's in-stream error object. */
  streamError?: boolean;
  /** Only requests to this endpoint take the failure; default: the next request of any kind. */
  endpoint?: Endpoint;
  /** The error's message instead of the stock one (e.g. one quoting the request's key, as some providers' do). */
  message?: string;
}

type Endpoint = 'chat' | 'transcriptions' | 'models' | 'speech';

export interface GroqStandinOptions extends StandinChatOptions, StandinTranscriptionOptions {
  apiKey?: string;
  /** Enforce a transcription request limit over any 60 s (as Groq does): beyond it, 429 with retry-after. */
  requestsPerMinute?: number;
  /** Answer requests that carry no Authorization header at all, as a local server without a key does. */
  keyless?: boolean;
}

export interface GroqStandin {
  /** Base URL for groq-sdk (`baseURL`). */
  readonly url: string;
  /** Base URL for the openai package (`baseURL`): `url` + `/v1`. */
  readonly openaiUrl: string;
  readonly apiKey: string;
  /** Every request received, in order. */
  readonly requests: StandinRequest[];
  /** Options may be changed between requests. */
  readonly options: GroqStandinOptions;
  /** `request` (StandinRequest, on arrival) and `client-gone` (StandinRequest, the client left before the answer). */
  readonly events: EventEmitter;
  failNext(...failures: StandinFailure[]): void;
  /** Transcription requests answered 429 by the requestsPerMinute limit. */
  readonly rateLimited: number;
  setTranscript(audio: Uint8Array, text: string): void;
  close(): Promise<void>;
}

class Standin implements GroqStandin {
  readonly requests: StandinRequest[] = [];
  readonly events = new EventEmitter();
  readonly apiKey: string;
  url = '';
  openaiUrl = '';
  rateLimited = 0;
  private readonly transcriptionTimes: number[] = [];
  private readonly failures: StandinFailure[] = [];
  private readonly transcriptsBySha = new Map<string, string>();
  private readonly server: Server;
  private closing: Promise<void> | undefined;

  constructor(readonly options: GroqStandinOptions) {
    this.apiKey = options.apiKey ?? STANDIN_API_KEY;
    for (const [sha, text] of Object.entries(options.transcripts ?? {})) this.transcriptsBySha.set(sha, text);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) sendError(res, new HttpFailure(500, 'Internal Server Error', undefined, 'internal_server_error'));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.openaiUrl = `${this.url}/v1`;
  }

  failNext(...failures: StandinFailure[]): void {
    this.failures.push(...failures);
  }

  setTranscript(audio: Uint8Array, text: string): void {
    this.transcriptsBySha.set(sha256Hex(audio), text);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private takeFailure(endpoint: Endpoint | undefined): StandinFailure | undefined {
    const at = this.failures.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
    return at >= 0 ? this.failures.splice(at, 1)[0] : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const route = routeOf(method, path);
    const entry: StandinRequest = {
      method,
      path,
      status: 0,
      flavor: route.flavor,
      authorized: req.headers.authorization === `Bearer ${this.apiKey}`,
      hasAuthorization: req.headers.authorization !== undefined,
      bodyBytes: body.byteLength,
    };
    res.once('finish', () => {
      entry.status = res.statusCode;
    });
    const { endpoint } = route;
    // Fill the log entry before anything can fail, so tests see what arrived.
    let parsed: ParsedRequest | HttpFailure;
    try {
      parsed = await parseRequest(endpoint, req, body, entry, route.flavor);
    } catch (error) {
      parsed = error instanceof HttpFailure ? error : new HttpFailure(400, 'could not parse the request body');
    }
    this.requests.push(entry);
    this.events.emit('request', entry);

    const failure = this.takeFailure(endpoint);
    if (failure?.hangMs !== undefined) {
      const stillThere = await hold(failure.hangMs, res);
      if (!stillThere) {
        this.events.emit('client-gone', entry);
        return;
      }
    }
    if (failure?.status !== undefined) {
      sendScriptedFailure(res, failure);
      return;
    }
    if (!entry.authorized && !(this.options.keyless === true && !entry.hasAuthorization)) {
      sendError(res, new HttpFailure(401, 'Invalid API Key', 'invalid_api_key'));
      return;
    }
    if (endpoint === undefined) {
      sendError(res, new HttpFailure(404, `Unknown request URL: ${method} ${path}. Please check the URL for typos.`, 'unknown_url'));
      return;
    }
    if (parsed instanceof HttpFailure) {
      sendError(res, parsed);
      return;
    }
    if (parsed.endpoint === 'transcriptions' && this.overRateLimit(res)) return;
    switch (parsed.endpoint) {
      case 'models':
        sendJson(res, 200, modelList(route.flavor));
        return;
      case 'speech': {
        const audio = await synthesizeSpeech(parsed);
        res.writeHead(200, { 'content-type': audio.contentType, 'content-length': String(audio.bytes.byteLength) }).end(audio.bytes);
        return;
      }
      case 'transcriptions':
        this.transcribe(res, parsed, route.flavor);
        return;
      case 'chat':
        await this.chat(res, parsed, route.flavor, failure?.streamError === true);
        return;
    }
  }

  /** The requestsPerMinute limit on transcriptions: true when it answered 429. */
  private overRateLimit(res: ServerResponse): boolean {
    if (this.options.requestsPerMinute === undefined) return false;
    const now = Date.now();
    while (this.transcriptionTimes.length > 0 && (this.transcriptionTimes[0] ?? 0) <= now - 60_000) this.transcriptionTimes.shift();
    if (this.transcriptionTimes.length >= this.options.requestsPerMinute) {
      this.rateLimited += 1;
      const waitS = Math.max(1, Math.ceil(((this.transcriptionTimes[0] ?? now) + 60_000 - now) / 1000));
      sendScriptedFailure(res, { status: 429, retryAfterS: waitS });
      return true;
    }
    this.transcriptionTimes.push(now);
    return false;
  }

  /** The `transcript` option, else the transcript set for these bytes, else the default. */
  private transcriptOf(audio: Uint8Array, meta: TranscriptMeta): string {
    return this.options.transcript?.(audio, meta) ?? this.transcriptsBySha.get(meta.sha256) ?? DEFAULT_STANDIN_TRANSCRIPT;
  }

  private transcribe(res: ServerResponse, request: TranscriptionRequest, flavor: Flavor): void {
    const { audio, fileName, model, language } = request;
    const meta: TranscriptMeta = { model, language, fileName, sha256: sha256Hex(audio) };
    sendTranscription(res, request, flavor, this.transcriptOf(audio, meta), this.options.segments?.(audio, meta));
  }

  private async chat(res: ServerResponse, request: ChatRequest, flavor: Flavor, streamError: boolean): Promise<void> {
    const messages = heardMessages(request, (a) =>
      this.transcriptOf(a.bytes, { model: request.model, language: undefined, fileName: `audio.${a.format}`, sha256: a.sha256 }),
    );
    await sendChat(res, request, messages, flavor, this.options, streamError);
  }
}

export async function startGroqStandin(options: GroqStandinOptions = {}): Promise<GroqStandin> {
  const standin = new Standin(options);
  await standin.listen();
  return standin;
}

// ── routing ─────────────────────────────────────────────────────────────────────────────────

type ParsedRequest = ChatRequest | TranscriptionRequest | SpeechRequest | { endpoint: 'models' };

const ROUTES: Readonly<Record<string, Endpoint>> = {
  'POST /chat/completions': 'chat',
  'POST /audio/transcriptions': 'transcriptions',
  'POST /audio/speech': 'speech',
  'GET /models': 'models',
};

/** Groq's paths under /openai/v1, OpenAI's under /v1; Groq has no speech endpoint here. */
function routeOf(method: string, path: string): { endpoint: Endpoint | undefined; flavor: Flavor } {
  const flavor: Flavor = path.startsWith('/openai/v1/') ? 'groq' : 'openai';
  const prefix = flavor === 'groq' ? '/openai/v1' : '/v1';
  const endpoint = path.startsWith(`${prefix}/`) ? ROUTES[`${method} ${path.slice(prefix.length)}`] : undefined;
  return { endpoint: flavor === 'groq' && endpoint === 'speech' ? undefined : endpoint, flavor };
}

async function parseRequest(
  endpoint: Endpoint | undefined,
  req: IncomingMessage,
  body: Buffer,
  entry: StandinRequest,
  flavor: Flavor,
): Promise<ParsedRequest | HttpFailure> {
  switch (endpoint) {
    case 'chat':
      return parseChat(body, entry, flavor);
    case 'transcriptions':
      return parseTranscription(req, body, entry, flavor);
    case 'speech':
      return parseSpeech(body, entry);
    case 'models':
    case undefined:
      return { endpoint: 'models' };
  }
}

function parseSpeech(body: Buffer, entry: StandinRequest): SpeechRequest {
  const json = parseJsonObject(body);
  const { model, input, voice, speed } = json;
  const responseFormat = typeof json.response_format === 'string' ? json.response_format : 'mp3';
  if (typeof model === 'string') entry.model = model;
  if (typeof input === 'string') entry.input = input;
  if (typeof voice === 'string') entry.voice = voice;
  if (typeof speed === 'number') entry.speed = speed;
  entry.responseFormat = responseFormat;
  if (typeof model !== 'string' || model === '') throw new HttpFailure(400, "'model' is a required property");
  checkModel(model, 'openai', 'speech');
  const problem = speechProblem(json);
  if (problem !== undefined) throw new HttpFailure(400, problem);
  return { endpoint: 'speech', model, input: String(input), voice: String(voice), speed: entry.speed ?? 1, responseFormat };
}

// ── failure injection ───────────────────────────────────────────────────────────────────────

function sendScriptedFailure(res: ServerResponse, failure: StandinFailure): void {
  const status = failure.status ?? 500;
  const headers: Record<string, string> = {};
  if (failure.retryAfterS !== undefined) headers['retry-after'] = String(failure.retryAfterS);
  if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
  if (failure.retryAfterMs !== undefined) headers['retry-after-ms'] = String(failure.retryAfterMs);
  if (status === 429) {
    sendError(
      res,
      new HttpFailure(429, failure.message ?? 'Rate limit reached for model on requests per minute (RPM). Please try again later.', 'rate_limit_exceeded', 'requests'),
      headers,
    );
  } else if (status >= 500) {
    sendError(res, new HttpFailure(status, failure.message ?? 'Service Unavailable', undefined, 'internal_server_error'), headers);
  } else {
    sendError(res, new HttpFailure(status, failure.message ?? 'scripted failure'), headers);
  }
}

/** Waits `ms` before answering; false when the client went away first. */
function hold(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}
