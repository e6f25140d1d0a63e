// Any audio ffmpeg reads → 16 kHz mono 16-bit PCM WAV, for APIs that take only some formats
// (OpenAI's `input_audio`: WAV or MP3). Temp files, not pipes: MP4/M4A need a seekable input,
// and a WAV written to a file gets its real sizes in the header. ffmpeg reads only that file,
// with the demuxer allow-list of audio-limits.ts, and writes at most the length limit (plus a
// second): a header that understated the length fails `audio_too_long` instead of filling the disk.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, VoxqError } from '../errors.js';
import { DECODE_SLACK_MS, fileUrl, inputGuard, MAX_TURN_AUDIO_MS, refusedDemuxer, SAFE_DEMUXERS, tooLong, unsupportedContainer } from './audio-limits.js';
import { readWavInfo } from './wav.js';

export interface ToWavOptions {
  /** ffmpeg binary (default `ffmpeg`). */
  ffmpeg?: string;
  /** Default 30 000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Audio that decodes to more is refused with `audio_too_long` (default MAX_TURN_AUDIO_MS). */
  maxDurationMs?: number;
}

export const TO_WAV_SAMPLE_RATE_HZ = 16_000;

const WAV_HEADER_BYTES = 44;
const WAV_BYTES_PER_MS = (TO_WAV_SAMPLE_RATE_HZ * 2) / 1000;

/**
 * Throws InputError `audio_unreadable` when ffmpeg cannot decode the bytes,
 * `audio_unsupported_container` for a playlist or a container ffmpeg may not read here,
 * `audio_too_long` past the limit, `audio_corrupt` when nothing decodes; VoxqError `ffmpeg_missing` without ffmpeg.
 */
export async function toWav(bytes: Uint8Array, options: ToWavOptions = {}): Promise<Uint8Array> {
  const maxDurationMs = options.maxDurationMs ?? MAX_TURN_AUDIO_MS;
  const dir = await mkdtemp(join(tmpdir(), 'voxq-wav-'));
  try {
    const input = join(dir, 'in');
    const output = join(dir, 'out.wav');
    await writeFile(input, bytes);
    const stopAt = String((maxDurationMs + DECODE_SLACK_MS) / 1000);
    const args = [
      '-v', 'error', '-nostdin', ...inputGuard('file', SAFE_DEMUXERS), '-i', fileUrl(input),
      '-vn', '-ac', '1', '-ar', String(TO_WAV_SAMPLE_RATE_HZ), '-c:a', 'pcm_s16le', '-t', stopAt, output,
    ];
    await run(options.ffmpeg ?? 'ffmpeg', args, options.timeoutMs ?? 30_000, options.signal);
    // The size says how much was decoded before the WAV is read in.
    const decodedMs = ((await stat(output)).size - WAV_HEADER_BYTES) / WAV_BYTES_PER_MS;
    if (decodedMs > maxDurationMs) throw tooLong(maxDurationMs, maxDurationMs, 'decoded');
    const wav = new Uint8Array(await readFile(output));
    // A header that reads with frames that do not (a garbled FLAC): ffmpeg skips them and exits 0.
    if ((readWavInfo(wav)?.dataBytes ?? 0) === 0) throw new InputError('audio_corrupt', 'the audio decodes to no sound at all: it is damaged or cut off');
    return wav;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(binary: string, args: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, ...(signal ? { signal } : {}) }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new VoxqError('ffmpeg_missing', `${binary} is not installed: it is needed to convert audio to WAV`));
      if (signal?.aborted) return reject(new VoxqError('aborted', 'the conversion to WAV was aborted', { cause: error }));
      const refused = refusedDemuxer(stderr);
      const unsupported = refused === undefined ? undefined : unsupportedContainer(refused, SAFE_DEMUXERS);
      if (unsupported) return reject(unsupported);
      const reason = stderr.trim().split('\n').at(-1) ?? error.message;
      reject(new InputError('audio_unreadable', `ffmpeg could not convert the audio to WAV: ${reason}`));
    });
  });
}
