// Real Brazilian Portuguese speech, made at test time by espeak-ng (and ffmpeg for other
// formats), cached in memory per (text, format, rate) for the test process. ffmpeg works in a
// temp dir removed right after each conversion: vitest kills its forks without an `exit`
// event, so a dir kept for the whole run would be left behind.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixWavHeader } from '../../src/shared/audio/wav.js';
import { runProcess } from '../../src/shared/run-process.js';

const execFileAsync = promisify(execFile);

export type SpeechFormat = 'wav' | 'mp3' | 'ogg' | 'flac';

export interface SpeakOptions {
  format?: SpeechFormat;
  /** Resample to this rate (espeak-ng speaks at 22 050 Hz). */
  sampleRateHz?: number;
}

const CODEC_ARGS: Record<SpeechFormat, string[]> = {
  wav: ['-c:a', 'pcm_s16le'],
  mp3: ['-c:a', 'libmp3lame', '-q:a', '5'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '3'],
  flac: ['-c:a', 'flac'],
};

const cache = new Map<string, Promise<Uint8Array>>();

export function speakPtBr(text: string, options: SpeakOptions = {}): Promise<Uint8Array> {
  const format = options.format ?? 'wav';
  const key = createHash('sha256')
    .update(JSON.stringify([text, format, options.sampleRateHz ?? null]))
    .digest('hex')
    .slice(0, 16);
  let result = cache.get(key);
  if (!result) {
    result = generate(text, format, options.sampleRateHz);
    cache.set(key, result);
    result.catch(() => cache.delete(key));
  }
  return result.then((bytes) => bytes.slice());
}

async function generate(text: string, format: SpeechFormat, sampleRateHz: number | undefined): Promise<Uint8Array> {
  const wav = fixWavHeader(await espeak(text));
  if (format === 'wav' && sampleRateHz === undefined) return wav;
  const dir = await mkdtemp(join(tmpdir(), 'voxq-speech-'));
  try {
    const input = join(dir, 'in.wav');
    const output = join(dir, `out.${format}`);
    await writeFile(input, wav);
    const rate = sampleRateHz === undefined ? [] : ['-ar', String(sampleRateHz)];
    await execFileAsync('ffmpeg', ['-v', 'error', '-y', '-i', input, ...rate, ...CODEC_ARGS[format], output]);
    return new Uint8Array(await readFile(output));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function espeak(text: string): Promise<Buffer> {
  const { code, stdout, stderr } = await runProcess('espeak-ng', ['-v', 'pt-br+f3', '--stdout'], { stdin: text, timeoutMs: 30_000 });
  if (code !== 0) throw new Error(`espeak-ng exited ${String(code)}: ${stderr}`);
  return stdout;
}
