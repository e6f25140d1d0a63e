// The stand-in's speech-native chat (Ultravox on vLLM, OpenAI's message shape): a user message
// whose content is a list of parts, the turn's audio among them as
// `{ type: 'input_audio', input_audio: { data: <base64>, format: 'wav' | 'mp3' } }`. Parts are
// checked as a strict server would (base64, a format the bytes really have, audio only for the
// models that take it); the stand-in "hears" audio as its transcript, so replies stay deterministic.
import { createHash } from 'node:crypto';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { isRecord } from './standin-http.js';

/** Chat models that take `input_audio` (served under /v1, also for audio/transcriptions). */
export const SPEECH_LLM_MODELS: readonly string[] = ['fixie-ai/ultravox-v0_5-llama-3_1-8b'];

/** One audio part as the request log shows it. */
export interface StandinInputAudio {
  /** Index of the message in `messages`. */
  message: number;
  format: 'wav' | 'mp3';
  sizeBytes: number;
  sha256: string;
}

export interface ChatAudio extends StandinInputAudio {
  bytes: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A message's content as the log shows it: the string, or its text parts joined by spaces. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return String(content);
  return content
    .filter(isRecord)
    .filter((p) => p.type === 'text' && typeof p.text === 'string')
    .map((p) => String(p.text))
    .join(' ');
}

/** Checks a list-of-parts content; `problem` is the 400 message, else the audio parts found. */
export function readContentParts(parts: unknown[], message: number, role: string, model: string): { problem?: string; audio: ChatAudio[] } {
  const audio: ChatAudio[] = [];
  const at = (j: number) => `'messages.${message}.content.${j}'`;
  if (role !== 'user') return { problem: `'messages.${message}.content' : only user messages may have content parts here`, audio };
  if (parts.length === 0) return { problem: `'messages.${message}.content' : minimum number of items is 1`, audio };
  for (const [j, part] of parts.entries()) {
    if (!isRecord(part)) return { problem: `${at(j)} : value must be an object`, audio };
    if (part.type === 'text') {
      if (typeof part.text !== 'string') return { problem: `${at(j)}.text : value must be a string`, audio };
      continue;
    }
    if (part.type !== 'input_audio') return { problem: `${at(j)}.type : value is not one of the allowed values (text, input_audio)`, audio };
    if (!SPEECH_LLM_MODELS.includes(model)) return { problem: `model \`${model}\` does not take audio input`, audio };
    const input = part.input_audio;
    if (!isRecord(input)) return { problem: `${at(j)}.input_audio : property 'input_audio' is missing`, audio };
    const { data, format } = input;
    if (format !== 'wav' && format !== 'mp3') return { problem: `${at(j)}.input_audio.format : value must be 'wav' or 'mp3'`, audio };
    if (typeof data !== 'string' || data.length % 4 !== 0 || !BASE64.test(data)) {
      return { problem: `${at(j)}.input_audio.data : value must be base64-encoded audio`, audio };
    }
    const bytes = new Uint8Array(Buffer.from(data, 'base64'));
    if (!looksLike(format, bytes)) return { problem: `${at(j)}.input_audio : the data is not ${format} audio`, audio };
    audio.push({ message, format, sizeBytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), bytes });
  }
  return { audio };
}

function looksLike(format: 'wav' | 'mp3', bytes: Uint8Array): boolean {
  if (format === 'wav') {
    const wav = readWavInfo(bytes);
    return wav !== null && wav.dataBytes > 0;
  }
  // An ID3 tag, or an MPEG audio frame sync.
  const id3 = bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33;
  return id3 || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0);
}
