// Synthesized samples → the bytes a client plays: 16-bit PCM WAV by default, Ogg Opus or MP3
// through ffmpeg (audio on stdin and stdout, never a shell; the input read as WAV from the pipe only).
import type { AudioFormat } from '../ports/audio.js';
import { runProcess } from '../run-process.js';
import { encodeWavPcm16 } from './wav.js';

export const SPEECH_FORMATS = ['wav', 'opus', 'mp3'] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

/** What the bytes of each format are. Opus always decodes at 48 kHz, whatever went in. */
export function speechAudioFormat(format: SpeechFormat, sampleRateHz: number): AudioFormat {
  switch (format) {
    case 'wav':
      return { container: 'wav', codec: 'pcm_s16le', sampleRateHz, channels: 1, mimeType: 'audio/wav' };
    case 'opus':
      return { container: 'ogg', codec: 'opus', sampleRateHz: 48_000, channels: 1, mimeType: 'audio/ogg' };
    case 'mp3':
      return { container: 'mp3', codec: 'mp3', sampleRateHz, channels: 1, mimeType: 'audio/mpeg' };
  }
}

export function floatToPcm16(samples: Float32Array): Int16Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    pcm[i] = Math.round(s < 0 ? s * 0x8000 : s * 0x7fff);
  }
  return pcm;
}

export interface EncodeOptions {
  ffmpeg?: string;
  signal?: AbortSignal;
  /** Per encoding (default 30 000 ms). */
  timeoutMs?: number;
}

const CODEC_ARGS: Record<Exclude<SpeechFormat, 'wav'>, string[]> = {
  opus: ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg'],
  mp3: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'],
};

export async function encodeSpeech(samples: Float32Array, sampleRateHz: number, format: SpeechFormat, options: EncodeOptions = {}): Promise<Uint8Array> {
  const wav = encodeWavPcm16(floatToPcm16(samples), sampleRateHz);
  if (format === 'wav') return wav;
  const args = ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'pipe', '-f', 'wav', '-i', 'pipe:0', '-ac', '1', ...CODEC_ARGS[format], 'pipe:1'];
  return runFfmpeg(options.ffmpeg ?? 'ffmpeg', args, wav, options);
}

async function runFfmpeg(binary: string, args: string[], input: Uint8Array, { signal, timeoutMs = 30_000 }: EncodeOptions): Promise<Uint8Array> {
  const { code, stdout, stderr } = await runProcess(binary, args, { stdin: input, timeoutMs, ...(signal ? { signal } : {}) });
  if (code !== 0) throw new Error(`ffmpeg exited with code ${String(code)}: ${stderr.trim().slice(0, 200)}`);
  return new Uint8Array(stdout);
}
