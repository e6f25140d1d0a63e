// The stand-in's `/v1/audio/speech` (OpenAI's TTS API, as Kokoro-FastAPI also serves it): what it
// accepts, and real audio back in the format asked for — a tone as long as the text would take
// to say at the requested speed. WAV comes with the placeholder sizes of a streamed header, as
// OpenAI sends it; mp3, opus, flac and aac are encoded by ffmpeg (stdin → stdout, no temp files).
import { runProcess } from '../../src/shared/run-process.js';
import { makeWav } from './wav.js';

export const TTS_MODELS: readonly string[] = ['tts-1', 'tts-1-hd', 'kokoro'];
export const SPEECH_RATE_HZ = 24_000;
/** Milliseconds of "speech" per character of input at speed 1. */
export const SPEECH_MS_PER_CHAR = 60;
/** OpenAI's limit on `input`. */
export const SPEECH_MAX_INPUT_CHARS = 4096;

export interface SpeechRequest {
  endpoint: 'speech';
  model: string;
  input: string;
  voice: string;
  speed: number;
  responseFormat: string;
}

interface Encoding {
  contentType: string;
  /** ffmpeg output arguments; none → the WAV itself. */
  ffmpeg?: readonly string[];
}

const ENCODINGS: Readonly<Record<string, Encoding>> = {
  wav: { contentType: 'audio/wav' },
  pcm: { contentType: 'audio/pcm' },
  mp3: { contentType: 'audio/mpeg', ffmpeg: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'] },
  opus: { contentType: 'audio/ogg', ffmpeg: ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg'] },
  flac: { contentType: 'audio/flac', ffmpeg: ['-c:a', 'flac', '-f', 'flac'] },
  aac: { contentType: 'audio/aac', ffmpeg: ['-c:a', 'aac', '-f', 'adts'] },
};

/** What OpenAI answers 400 to, as its message; undefined when the body is acceptable (the model is checked apart). */
export function speechProblem(json: Record<string, unknown>): string | undefined {
  const { input, voice, speed } = json;
  const format = json.response_format ?? 'mp3';
  if (typeof input !== 'string' || input === '') return "'input' is a required property";
  if (input.length > SPEECH_MAX_INPUT_CHARS) return `'input' is too long: at most ${SPEECH_MAX_INPUT_CHARS} characters`;
  if (typeof voice !== 'string' || voice === '') return "'voice' is a required property";
  if (speed !== undefined && !(typeof speed === 'number' && speed >= 0.25 && speed <= 4)) {
    return "'speed' must be between 0.25 and 4.0";
  }
  if (typeof format !== 'string' || ENCODINGS[format] === undefined) {
    return `'response_format' must be one of ${Object.keys(ENCODINGS).join(', ')}`;
  }
  return undefined;
}

/** How long the stand-in "speaks" a text, in milliseconds. */
export function speechDurationMs(input: string, speed: number): number {
  return Math.max(200, Math.round((input.length * SPEECH_MS_PER_CHAR) / speed));
}

export async function synthesizeSpeech(request: SpeechRequest): Promise<{ bytes: Uint8Array; contentType: string }> {
  const encoding = ENCODINGS[request.responseFormat] ?? { contentType: 'audio/wav' };
  const wav = makeWav({ durationMs: speechDurationMs(request.input, request.speed), sampleRateHz: SPEECH_RATE_HZ, freqHz: 220 });
  if (request.responseFormat === 'pcm') return { bytes: wav.subarray(44), contentType: encoding.contentType };
  if (!encoding.ffmpeg) return { bytes: asStreamedWav(wav), contentType: encoding.contentType };
  return { bytes: await ffmpeg(wav, encoding.ffmpeg), contentType: encoding.contentType };
}

/** The RIFF and data sizes a server streaming the WAV cannot know in advance. */
function asStreamedWav(wav: Uint8Array): Uint8Array {
  const streamed = wav.slice();
  const view = new DataView(streamed.buffer);
  view.setUint32(4, 0xffffffff, true);
  view.setUint32(40, 0xffffffff, true);
  return streamed;
}

async function ffmpeg(wav: Uint8Array, output: readonly string[]): Promise<Uint8Array> {
  const args = ['-v', 'error', '-f', 'wav', '-i', 'pipe:0', ...output, 'pipe:1'];
  const { code, stdout, stderr } = await runProcess('ffmpeg', args, { stdin: wav, timeoutMs: 30_000 });
  if (code !== 0) throw new Error(`ffmpeg exited with ${String(code)}: ${stderr.slice(0, 300)}`);
  return new Uint8Array(stdout);
}
