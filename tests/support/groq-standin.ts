// A local stand-in for Groq's OpenAI-style API, the part groq-sdk uses: transcriptions
// (multipart, verbose_json), chat completions (plain and SSE) and the model list. It rejects what
// Groq rejects, answers deterministically, and can be told to fail the next requests (429 with
// retry-after, 5xx, a hang, an error mid-stream). Give the SDK `s.url`: it appends /openai/v1/….
// The same server speaks OpenAI's API under /v1/… (`s.openaiUrl` for the openai package): the
// same endpoints with OpenAI's models and answer shapes, plus audio/speech (standin-speech.ts).
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { speechProblem, synthesizeSpeech, TTS_MODELS, type SpeechRequest } from './standin-speech.js';
import { contentText, readContentParts, SPEECH_LLM_MODELS, type ChatAudio, type StandinInputAudio } from './standin-audio-chat.js';

export const STANDIN_API_KEY = 'gsk_standin_test_key';
/** Groq's per-file limit for transcription (free tier). */
export const STANDIN_MAX_FILE_BYTES = 25 * 1024 * 1024;
export const STT_MODELS: readonly string[] = ['whisper-large-v3-turbo', 'whisper-large-v3'];
export const CHAT_MODELS: readonly string[] = ['openai/gpt-oss-20b', 'openai/gpt-oss-120b'];
export const OPENAI_STT_MODELS: readonly string[] = ['whisper-1', 'gpt-4o-mini-transcribe'];
export const OPENAI_CHAT_MODELS: readonly string[] = ['gpt-4o-mini', 'gpt-4o'];
export { TTS_MODELS, SPEECH_LLM_MODELS };
export const DEFAULT_STANDIN_TRANSCRIPT = 'Olá, tudo bem? Eu queria saber a previsão do tempo para amanhã.';
/** What the stand-in's gpt-oss "thinks": a marker that must never reach an answer. */
export const STANDIN_REASONING = 'RACIOCINIO-INTERNO: o usuário quer uma resposta curta em português.';

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

export interface TranscriptMeta {
  model: string;
  language: string | undefined;
  fileName: string;
  sha256: string;
}

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
}

type Endpoint = 'chat' | 'transcriptions' | 'models' | 'speech';
export type Flavor = 'groq' | 'openai';

const MODELS: Readonly<Record<Flavor, Readonly<Record<'chat' | 'transcriptions' | 'speech', readonly string[]>>>> = {
  groq: { chat: CHAT_MODELS, transcriptions: STT_MODELS, speech: [] },
  openai: { chat: [...OPENAI_CHAT_MODELS, ...SPEECH_LLM_MODELS], transcriptions: [...OPENAI_STT_MODELS, ...SPEECH_LLM_MODELS], speech: TTS_MODELS },
};

export interface GroqStandinOptions {
  apiKey?: string;
  /** The transcript of an audio file; default: the `transcripts` map, then DEFAULT_STANDIN_TRANSCRIPT. */
  transcript?: (audio: Uint8Array, meta: TranscriptMeta) => string;
  /** sha256 (hex) of the audio bytes → transcript. */
  transcripts?: Record<string, string>;
  /** The answer to a chat; default `Resposta <prior messages seen>: <last user message>`. */
  reply?: (messages: StandinMessage[]) => string;
  /** gpt-oss reasoning, sent in `reasoning` whatever reasoning_format says; default STANDIN_REASONING. */
  reasoning?: (messages: StandinMessage[]) => string;
  /** Also put `<think>reasoning</think>` at the start of the answer text. */
  thinkTagsInContent?: boolean;
  /** Stream the answer in pieces of this many characters (default: word by word). */
  chunkChars?: number;
  /** Enforce a transcription request limit over any 60 s (as Groq does): beyond it, 429 with retry-after. */
  requestsPerMinute?: number;
  /** Answer requests that carry no Authorization header at all, as a local server without a key does. */
  keyless?: boolean;
  /** verbose_json segments of an audio file (seconds); default: the text spread over the duration. */
  segments?: (audio: Uint8Array, meta: TranscriptMeta) => StandinSegment[] | undefined;
}

export interface StandinSegment {
  start: number;
  end: number;
  text: string;
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

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The default chat answer: how many messages came before the last one (system excluded), and that message. */
export function defaultStandinReply(messages: readonly StandinMessage[]): string {
  const dialogue = messages.filter((m) => m.role !== 'system');
  const last = dialogue[dialogue.length - 1];
  return `Resposta ${Math.max(0, dialogue.length - 1)}: ${last?.content ?? ''}`;
}

// Whisper's language codes as Groq accepts them (groq-sdk's list), with Whisper's names.
const WHISPER_LANGUAGES: Readonly<Record<string, string>> = {
  en: 'english', zh: 'chinese', de: 'german', es: 'spanish', ru: 'russian', ko: 'korean', fr: 'french',
  ja: 'japanese', pt: 'portuguese', tr: 'turkish', pl: 'polish', ca: 'catalan', nl: 'dutch', ar: 'arabic',
  sv: 'swedish', it: 'italian', id: 'indonesian', hi: 'hindi', fi: 'finnish', vi: 'vietnamese', he: 'hebrew',
  uk: 'ukrainian', el: 'greek', ms: 'malay', cs: 'czech', ro: 'romanian', da: 'danish', hu: 'hungarian',
  ta: 'tamil', no: 'norwegian', th: 'thai', ur: 'urdu', hr: 'croatian', bg: 'bulgarian', lt: 'lithuanian',
  la: 'latin', mi: 'maori', ml: 'malayalam', cy: 'welsh', sk: 'slovak', te: 'telugu', fa: 'persian',
  lv: 'latvian', bn: 'bengali', sr: 'serbian', az: 'azerbaijani', sl: 'slovenian', kn: 'kannada',
  et: 'estonian', mk: 'macedonian', br: 'breton', eu: 'basque', is: 'icelandic', hy: 'armenian',
  ne: 'nepali', mn: 'mongolian', bs: 'bosnian', kk: 'kazakh', sq: 'albanian', sw: 'swahili', gl: 'galician',
  mr: 'marathi', pa: 'punjabi', si: 'sinhala', km: 'khmer', sn: 'shona', yo: 'yoruba', so: 'somali',
  af: 'afrikaans', oc: 'occitan', ka: 'georgian', be: 'belarusian', tg: 'tajik', sd: 'sindhi', gu: 'gujarati',
  am: 'amharic', yi: 'yiddish', lo: 'lao', uz: 'uzbek', fo: 'faroese', ht: 'haitian creole', ps: 'pashto',
  tk: 'turkmen', nn: 'nynorsk', mt: 'maltese', sa: 'sanskrit', lb: 'luxembourgish', my: 'myanmar',
  bo: 'tibetan', tl: 'tagalog', mg: 'malagasy', as: 'assamese', tt: 'tatar', haw: 'hawaiian', ln: 'lingala',
  ha: 'hausa', ba: 'bashkir', jv: 'javanese', su: 'sundanese', yue: 'cantonese',
};

const MESSAGE_KEYS = new Set(['role', 'content', 'name']);
const ROLES = new Set(['system', 'user', 'assistant']);

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly type: string = 'invalid_request_error',
  ) {
    super(message);
  }
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
    if (parsed.endpoint === 'transcriptions' && this.options.requestsPerMinute !== undefined) {
      const now = Date.now();
      while (this.transcriptionTimes.length > 0 && (this.transcriptionTimes[0] ?? 0) <= now - 60_000) this.transcriptionTimes.shift();
      if (this.transcriptionTimes.length >= this.options.requestsPerMinute) {
        this.rateLimited += 1;
        const waitS = Math.max(1, Math.ceil(((this.transcriptionTimes[0] ?? now) + 60_000 - now) / 1000));
        sendScriptedFailure(res, { status: 429, retryAfterS: waitS });
        return;
      }
      this.transcriptionTimes.push(now);
    }
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
        await this.chat(res, parsed, failure, route.flavor);
        return;
    }
  }

  private transcribe(res: ServerResponse, request: TranscriptionRequest, flavor: Flavor): void {
    const { audio, fileName, model, language, responseFormat } = request;
    const sha256 = sha256Hex(audio);
    const text =
      this.options.transcript?.(audio, { model, language, fileName, sha256 }) ??
      this.transcriptsBySha.get(sha256) ??
      DEFAULT_STANDIN_TRANSCRIPT;
    const requestId = `req_${randomUUID()}`;
    const groqExtra = flavor === 'groq' ? { x_groq: { id: requestId } } : {};
    if (responseFormat === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
      return;
    }
    if (responseFormat === 'json') {
      sendJson(res, 200, { text: ` ${text}`, ...groqExtra });
      return;
    }
    const wav = readWavInfo(audio);
    const durationS = wav ? wav.durationMs / 1000 : audio.byteLength / 32_000;
    const given = this.options.segments?.(audio, { model, language, fileName, sha256 });
    sendJson(res, 200, {
      task: 'transcribe',
      language: WHISPER_LANGUAGES[language ?? 'pt'] ?? language,
      duration: durationS,
      text: ` ${given ? given.map((g) => g.text).join(' ') : text}`,
      segments: given
        ? given.map((g, i) => ({ id: i, seek: 0, start: g.start, end: g.end, text: ` ${g.text}`, tokens: [], temperature: 0, avg_logprob: -0.1, compression_ratio: 1.2, no_speech_prob: 0.01 }))
        : whisperSegments(text, durationS),
      ...groqExtra,
    });
  }

  /** The messages as a speech-native model hears them: each audio part as its transcript, after the message's text. */
  private heard(request: ChatRequest): StandinMessage[] {
    return request.messages.map((m, i) => {
      const said = request.audio
        .filter((a) => a.message === i)
        .map((a) => this.options.transcript?.(a.bytes, { model: request.model, language: undefined, fileName: `audio.${a.format}`, sha256: a.sha256 }) ?? this.transcriptsBySha.get(a.sha256) ?? DEFAULT_STANDIN_TRANSCRIPT);
      return said.length === 0 ? m : { role: m.role, content: [m.content, ...said].filter((t) => t !== '').join(' ') };
    });
  }

  private async chat(res: ServerResponse, request: ChatRequest, failure: StandinFailure | undefined, flavor: Flavor): Promise<void> {
    const { model } = request;
    const messages = this.heard(request);
    const reasoning = CHAT_MODELS.includes(model) ? (this.options.reasoning?.(messages) ?? STANDIN_REASONING) : undefined;
    let words = wordPieces(this.options.reply?.(messages) ?? defaultStandinReply(messages));
    let finishReason: 'stop' | 'length' = 'stop';
    if (request.maxCompletionTokens !== undefined && words.length > request.maxCompletionTokens) {
      words = words.slice(0, request.maxCompletionTokens);
      const last = words.length - 1;
      if (last >= 0) words[last] = (words[last] ?? '').trimEnd();
      finishReason = 'length';
    }
    const answer = words.join('');
    const thinkTags = reasoning !== undefined && (this.options.thinkTagsInContent === true || request.reasoningFormat === 'raw');
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
    const pieces = this.options.chunkChars ? charPieces(content, this.options.chunkChars) : wordPieces(content);
    for (const [i, piece] of pieces.entries()) {
      if (!(await send(chunk({ content: piece }, null)))) return;
      if (failure?.streamError && i === 0) {
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
}

export async function startGroqStandin(options: GroqStandinOptions = {}): Promise<GroqStandin> {
  const standin = new Standin(options);
  await standin.listen();
  return standin;
}

// ── requests ────────────────────────────────────────────────────────────────────────────────

interface ChatRequest {
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

interface TranscriptionRequest {
  endpoint: 'transcriptions';
  model: string;
  audio: Uint8Array;
  fileName: string;
  language?: string;
  responseFormat: string;
}

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

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'request body is not valid JSON');
  }
  if (!isRecord(json)) throw new HttpFailure(400, 'request body must be a JSON object');
  return json;
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

function parseChat(body: Buffer, entry: StandinRequest, flavor: Flavor): ChatRequest {
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

async function parseTranscription(req: IncomingMessage, body: Buffer, entry: StandinRequest, flavor: Flavor): Promise<TranscriptionRequest> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.startsWith('multipart/form-data')) {
    throw new HttpFailure(400, 'request Content-Type must be multipart/form-data');
  }
  let form: FormData;
  try {
    form = await new Request('http://standin/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    throw new HttpFailure(400, 'could not parse multipart form');
  }
  const field = (name: string): string | undefined => {
    const value = form.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const file = form.get('file');
  const model = field('model');
  const language = field('language');
  const responseFormat = field('response_format') ?? 'json';
  const temperature = field('temperature');
  if (model !== undefined) entry.model = model;
  if (language !== undefined) entry.language = language;
  entry.responseFormat = responseFormat;
  entry.timestampGranularities = form.getAll('timestamp_granularities[]').filter((v): v is string => typeof v === 'string');
  if (file instanceof Blob) {
    entry.fileName = 'name' in file && typeof file.name === 'string' ? file.name : 'file';
    entry.fileType = file.type;
    entry.fileBytes = file.size;
  }

  if (!(file instanceof Blob)) throw new HttpFailure(400, 'either file or url must be provided');
  if (model === undefined || model === '') throw new HttpFailure(400, 'model is required');
  checkModel(model, flavor, 'transcriptions');
  if (file.size > STANDIN_MAX_FILE_BYTES) throw new HttpFailure(413, 'Request Entity Too Large', 'request_too_large');
  if (file.size === 0) throw new HttpFailure(400, 'file is empty');
  if (language !== undefined && WHISPER_LANGUAGES[language] === undefined) {
    throw new HttpFailure(400, `language "${language}" is not supported: use an ISO-639-1 code such as "pt"`);
  }
  if (!['json', 'text', 'verbose_json'].includes(responseFormat)) {
    throw new HttpFailure(400, `response_format "${responseFormat}" is not supported`);
  }
  if (responseFormat === 'verbose_json' && model.includes('transcribe')) {
    throw new HttpFailure(400, `response_format 'verbose_json' is not compatible with model '${model}'. Use 'json' or 'text' instead.`);
  }
  if (temperature !== undefined && !(Number(temperature) >= 0 && Number(temperature) <= 1)) {
    throw new HttpFailure(400, 'temperature must be between 0 and 1');
  }
  return {
    endpoint: 'transcriptions',
    model,
    audio: new Uint8Array(await file.arrayBuffer()),
    fileName: entry.fileName ?? 'file',
    ...(language !== undefined ? { language } : {}),
    responseFormat,
  };
}

function checkModel(model: string, flavor: Flavor, what: 'chat' | 'transcriptions' | 'speech'): void {
  const served = MODELS[flavor];
  if (!Object.values(served).some((models) => models.includes(model))) {
    throw new HttpFailure(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'model_not_found');
  }
  if (!served[what].includes(model)) {
    throw new HttpFailure(400, `model \`${model}\` does not support ${what === 'chat' ? 'chat completions' : what}`, 'model_not_supported');
  }
}

// ── responses ───────────────────────────────────────────────────────────────────────────────

function modelList(flavor: Flavor): unknown {
  const created = 1_700_000_000;
  if (flavor === 'openai') {
    const all = Object.values(MODELS.openai).flat();
    return { object: 'list', data: all.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) };
  }
  const entry = (id: string, ownedBy: string, contextWindow: number) => ({
    id,
    object: 'model',
    created,
    owned_by: ownedBy,
    active: true,
    context_window: contextWindow,
    public_apps: null,
  });
  return {
    object: 'list',
    data: [
      ...STT_MODELS.map((id) => entry(id, 'OpenAI', 448)),
      ...CHAT_MODELS.map((id) => entry(id, 'OpenAI', 131_072)),
    ],
  };
}

function whisperSegments(text: string, durationS: number): unknown[] {
  const sentences = text.split(/(?<=[.!?])\s+/).filter((s) => s !== '');
  const totalChars = sentences.reduce((n, s) => n + s.length, 0) || 1;
  let start = 0;
  let chars = 0;
  return sentences.map((sentence, i) => {
    chars += sentence.length;
    const end = i === sentences.length - 1 ? durationS : (durationS * chars) / totalChars;
    const segment = {
      id: i,
      seek: 0,
      start: round2(start),
      end: round2(end),
      text: ` ${sentence}`,
      tokens: wordPieces(sentence).map((_, t) => 50_365 + t),
      temperature: 0,
      avg_logprob: -0.1 * (i + 1),
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    };
    start = end;
    return segment;
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, failure: HttpFailure, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    failure.status,
    { error: { message: failure.message, type: failure.type, ...(failure.code ? { code: failure.code } : {}) } },
    headers,
  );
}

function sendScriptedFailure(res: ServerResponse, failure: StandinFailure): void {
  const status = failure.status ?? 500;
  const headers: Record<string, string> = {};
  if (failure.retryAfterS !== undefined) headers['retry-after'] = String(failure.retryAfterS);
  if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
  if (failure.retryAfterMs !== undefined) headers['retry-after-ms'] = String(failure.retryAfterMs);
  if (status === 429) {
    sendError(
      res,
      new HttpFailure(429, 'Rate limit reached for model on requests per minute (RPM). Please try again later.', 'rate_limit_exceeded', 'requests'),
      headers,
    );
  } else if (status >= 500) {
    sendError(res, new HttpFailure(status, 'Service Unavailable', undefined, 'internal_server_error'), headers);
  } else {
    sendError(res, new HttpFailure(status, 'scripted failure'), headers);
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

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function wordPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function charPieces(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
