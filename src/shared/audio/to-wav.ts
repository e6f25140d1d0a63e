// Any audio ffmpeg reads → 16 kHz mono 16-bit PCM WAV, for APIs that take only some formats
// (OpenAI's `input_audio`: WAV or MP3). Temp files, not pipes: MP4/M4A need a seekable input,
// and a WAV written to a file gets its real sizes in the header.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, VoxqError } from '../errors.js';

export interface ToWavOptions {
  /** ffmpeg binary (default `ffmpeg`). */
  ffmpeg?: string;
  /** Default 30 000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const TO_WAV_SAMPLE_RATE_HZ = 16_000;

/** Throws InputError `audio_unreadable` when ffmpeg cannot decode the bytes, VoxqError `ffmpeg_missing` without ffmpeg. */
export async function toWav(bytes: Uint8Array, options: ToWavOptions = {}): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'voxq-wav-'));
  try {
    const input = join(dir, 'in');
    const output = join(dir, 'out.wav');
    await writeFile(input, bytes);
    const args = ['-v', 'error', '-nostdin', '-i', input, '-vn', '-ac', '1', '-ar', String(TO_WAV_SAMPLE_RATE_HZ), '-c:a', 'pcm_s16le', output];
    await run(options.ffmpeg ?? 'ffmpeg', args, options.timeoutMs ?? 30_000, options.signal);
    return new Uint8Array(await readFile(output));
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
      const reason = stderr.trim().split('\n').at(-1) ?? error.message;
      reject(new InputError('audio_unreadable', `ffmpeg could not convert the audio to WAV: ${reason}`));
    });
  });
}
