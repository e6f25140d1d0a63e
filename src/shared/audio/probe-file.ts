// Is this file audio? ffprobe reads the file itself (seekable, so durations are exact, and a
// large recording is never loaded to find out). The extension plays no part. It reads that one
// file through ffmpeg's file protocol, with an allow-list of demuxers (audio-limits.ts): a
// playlist (`.m3u8`, `ffconcat`) in the folder is refused without opening what it lists.
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { InputError, VoxqError } from '../errors.js';
import { fileUrl, inputGuard, MAX_BATCH_AUDIO_MS, refusedDemuxer, SAFE_DEMUXERS, tooLong, unsupportedContainer } from './audio-limits.js';
import { mimeTypeFor } from './probe.js';

export interface ProbedFile {
  durationMs: number;
  formatName: string;
  codec: string;
  sampleRateHz: number;
  channels: number;
  mimeType: string;
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string };
  streams?: { codec_type?: string; codec_name?: string; sample_rate?: string; channels?: number; duration?: string }[];
}

export interface ProbeFileOptions {
  ffprobe?: string;
  timeoutMs?: number;
  /** Longer audio is refused with `audio_too_long` (default MAX_BATCH_AUDIO_MS). */
  maxDurationMs?: number;
  /** ffmpeg demuxers read (default SAFE_DEMUXERS); another is `audio_unsupported_container` or `audio_not_audio`. */
  demuxers?: readonly string[];
}

/**
 * Throws InputError `audio_not_audio` (not audio at all), `audio_empty`, `audio_corrupt`,
 * `audio_unreadable`, `audio_unsupported_container` (a playlist or reference file) or `audio_too_long`.
 */
export async function probeAudioFile(path: string, options: ProbeFileOptions = {}): Promise<ProbedFile> {
  const head = await readHead(path);
  if (head.byteLength === 0) throw new InputError('audio_empty', 'the file is empty (0 bytes)');
  const demuxers = options.demuxers ?? SAFE_DEMUXERS;
  const args = ['-v', 'error', ...inputGuard('file', demuxers), '-show_format', '-show_streams', '-of', 'json', '-i', fileUrl(resolvePath(path))];
  const result = await run(options.ffprobe ?? 'ffprobe', args, options.timeoutMs ?? 30_000);
  if (result.code !== 0) {
    const refused = refusedDemuxer(result.stderr);
    const unsupported = refused === undefined ? undefined : unsupportedContainer(refused, demuxers);
    if (unsupported) throw unsupported;
    if (looksLikeAudio(head)) throw new InputError('audio_corrupt', `the audio is damaged or cut off: ${firstLine(result.stderr)}`);
    throw new InputError('audio_not_audio', 'not an audio file (ffprobe does not recognise it)');
  }
  let json: FfprobeJson;
  try {
    json = JSON.parse(result.stdout) as FfprobeJson;
  } catch (cause) {
    throw new InputError('audio_corrupt', 'ffprobe could not describe the file', { cause });
  }
  const stream = json.streams?.find((s) => s.codec_type === 'audio');
  const formatName = json.format?.format_name ?? '';
  if (!stream) throw new InputError('audio_not_audio', `no audio track (${formatName || 'unknown format'})`);
  const seconds = Number(json.format?.duration ?? stream.duration);
  const sampleRateHz = Number(stream.sample_rate);
  if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isFinite(sampleRateHz) || sampleRateHz <= 0) {
    throw new InputError('audio_corrupt', 'the audio track has no readable length or sample rate: it looks cut off or damaged');
  }
  const durationMs = Math.round(seconds * 1000);
  const maxDurationMs = options.maxDurationMs ?? MAX_BATCH_AUDIO_MS;
  if (durationMs > maxDurationMs) throw tooLong(durationMs, maxDurationMs, 'declared');
  return {
    durationMs,
    formatName,
    codec: stream.codec_name ?? 'unknown',
    sampleRateHz,
    channels: stream.channels ?? 1,
    mimeType: mimeTypeFor(formatName),
  };
}

async function readHead(path: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new InputError('audio_unreadable', `the file cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  try {
    const buffer = Buffer.alloc(16);
    const { bytesRead } = await handle.read(buffer, 0, 16, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function looksLikeAudio(bytes: Uint8Array): boolean {
  const ascii = (offset: number, length: number): string => String.fromCharCode(...bytes.subarray(offset, offset + length));
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  return (
    ['RIFF', 'OggS', 'fLaC'].includes(ascii(0, 4)) ||
    ascii(0, 3) === 'ID3' ||
    ascii(4, 4) === 'ftyp' ||
    (b0 === 0x1a && b1 === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) ||
    (b0 === 0xff && (b1 & 0xe0) === 0xe0)
  );
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) || 'unreadable';
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new VoxqError('ffprobe_unavailable', `ffprobe could not be started (${binary}); install ffmpeg`, { cause: error }));
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
