// The stand-in's audio/transcriptions, Groq's and OpenAI's (multipart; json, text or
// verbose_json): what it rejects as they do, and a transcript chosen by the audio's sha256, with
// Whisper-shaped segments spread over the audio's duration.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { HttpFailure, sendJson, wordPieces, type Flavor, type StandinRequest } from './standin-http.js';
import { checkModel } from './standin-models.js';

/** Groq's per-file limit for transcription (free tier). */
export const STANDIN_MAX_FILE_BYTES = 25 * 1024 * 1024;
export const DEFAULT_STANDIN_TRANSCRIPT = 'Olá, tudo bem? Eu queria saber a previsão do tempo para amanhã.';

export interface TranscriptMeta {
  model: string;
  language: string | undefined;
  fileName: string;
  sha256: string;
}

export interface StandinSegment {
  start: number;
  end: number;
  text: string;
}

export interface StandinTranscriptionOptions {
  /** The transcript of an audio file; default: the `transcripts` map, then DEFAULT_STANDIN_TRANSCRIPT. */
  transcript?: (audio: Uint8Array, meta: TranscriptMeta) => string;
  /** sha256 (hex) of the audio bytes → transcript. */
  transcripts?: Record<string, string>;
  /** verbose_json segments of an audio file (seconds); default: the text spread over the duration. */
  segments?: (audio: Uint8Array, meta: TranscriptMeta) => StandinSegment[] | undefined;
}

export interface TranscriptionRequest {
  endpoint: 'transcriptions';
  model: string;
  audio: Uint8Array;
  fileName: string;
  language?: string;
  responseFormat: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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

/** Fills the log entry first (so tests see what arrived), then rejects what the API would. */
export async function parseTranscription(req: IncomingMessage, body: Buffer, entry: StandinRequest, flavor: Flavor): Promise<TranscriptionRequest> {
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

/** Answers `text` in the format asked for; verbose_json with the `given` segments, else the text spread over the audio. */
export function sendTranscription(
  res: ServerResponse,
  request: TranscriptionRequest,
  flavor: Flavor,
  text: string,
  given: StandinSegment[] | undefined,
): void {
  const { audio, language, responseFormat } = request;
  const groqExtra = flavor === 'groq' ? { x_groq: { id: `req_${randomUUID()}` } } : {};
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

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
