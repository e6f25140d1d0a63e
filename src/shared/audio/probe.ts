// What is this audio? ffprobe answers from a pipe; when the pipe cannot tell the duration
// (mp3, ogg, a streamed WAV), the bytes go to a temp file that ffprobe can seek in. Either way
// it reads only that input, with an allow-list of demuxers (audio-limits.ts): a playlist is
// refused before it opens anything, and audio longer than the limit is refused by the duration
// it declares, before anything decodes it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, TimeoutError, VoxqError } from '../errors.js';
import { ProcessError, runProcess } from '../run-process.js';
import { fileUrl, inputGuard, MAX_TURN_AUDIO_MS, refusedDemuxer, tooLong, TURN_DEMUXERS, unsupportedContainer, type InputKind } from './audio-limits.js';
import { readWavInfo } from './wav.js';

/** Groq's per-file limit for transcription; enforcing it is the caller's job (`audio_too_large`). */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

export interface ProbedAudio {
  durationMs: number;
  /** Short container name: wav, mp3, ogg, flac, mp4, webm, or ffprobe's first format name. */
  container: string;
  /** ffprobe's codec name: pcm_s16le, mp3, vorbis, opus, flac, aac … */
  codec: string;
  sampleRateHz: number;
  channels: number;
  mimeType: string;
}

export interface ProbeOptions {
  /** ffprobe binary (default `ffprobe`). */
  ffprobe?: string;
  /** Per ffprobe run (default 15 000 ms). */
  timeoutMs?: number;
  /** Read 16-bit PCM WAV from its header instead of running ffprobe (default true). Tests that
   *  check a WAV is playable set false, so ffprobe itself parses it. */
  trustWavHeader?: boolean;
  /** Longer audio is refused with `audio_too_long` (default MAX_TURN_AUDIO_MS). */
  maxDurationMs?: number;
  /** ffmpeg demuxers read (default TURN_DEMUXERS); another is `audio_unsupported_container`. */
  demuxers?: readonly string[];
}

interface Container {
  /** ffprobe format names that mean this container. */
  names: readonly string[];
  container: string;
  mimeType: string;
}

const CONTAINERS: readonly Container[] = [
  { names: ['wav'], container: 'wav', mimeType: 'audio/wav' },
  { names: ['mp3'], container: 'mp3', mimeType: 'audio/mpeg' },
  { names: ['ogg', 'oga', 'opus'], container: 'ogg', mimeType: 'audio/ogg' },
  { names: ['flac'], container: 'flac', mimeType: 'audio/flac' },
  { names: ['mov', 'mp4', 'm4a', '3gp'], container: 'mp4', mimeType: 'audio/mp4' },
  { names: ['webm', 'matroska'], container: 'webm', mimeType: 'audio/webm' },
  { names: ['aac'], container: 'aac', mimeType: 'audio/aac' },
];

function containerFor(formatName: string): Container | undefined {
  const names = formatName.toLowerCase().split(',').map((n) => n.trim());
  return CONTAINERS.find((c) => c.names.some((n) => names.includes(n)));
}

/** MIME type of an ffprobe format name (`wav`, `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm` …) or a short container name. */
export function mimeTypeFor(container: string): string {
  return containerFor(container)?.mimeType ?? 'application/octet-stream';
}

/**
 * Probes audio bytes. Throws InputError `audio_empty`, `audio_not_audio`, `audio_corrupt`,
 * `audio_unsupported_container` (a playlist, or a container not accepted) or `audio_too_long`
 * for input that is not usable audio.
 */
export async function probeAudio(bytes: Uint8Array, options: ProbeOptions = {}): Promise<ProbedAudio> {
  if (bytes.byteLength === 0) throw new InputError('audio_empty', 'The audio is empty (0 bytes).');
  const maxDurationMs = options.maxDurationMs ?? MAX_TURN_AUDIO_MS;
  const demuxers = options.demuxers ?? TURN_DEMUXERS;
  // 16-bit PCM WAV (what microphones, espeak-ng and most clients send) is read from its header:
  // no ffprobe process per turn. Anything else, or a WAV with no audio, goes to ffprobe.
  const wav = options.trustWavHeader === false ? null : readWavInfo(bytes);
  if (wav && wav.formatTag === 1 && wav.bitsPerSample === 16 && wav.dataBytes > 0) {
    if (wav.durationMs > maxDurationMs) throw tooLong(wav.durationMs, maxDurationMs, 'declared');
    return { durationMs: wav.durationMs, container: 'wav', codec: 'pcm_s16le', sampleRateHz: wav.sampleRateHz, channels: wav.channels, mimeType: 'audio/wav' };
  }
  const binary = options.ffprobe ?? 'ffprobe';
  const timeoutMs = options.timeoutMs ?? 15_000;
  const args = (kind: InputKind) => ['-v', 'error', ...inputGuard(kind, demuxers), '-show_format', '-show_streams', '-of', 'json'];
  const checked = (report: Report): Report => {
    if (report.durationMs !== undefined && report.durationMs > maxDurationMs) throw tooLong(report.durationMs, maxDurationMs, 'declared');
    return report;
  };

  const piped = await runFfprobe(binary, [...args('pipe'), '-i', 'pipe:0'], bytes, timeoutMs);
  let report = checked(parseReport(piped, bytes, demuxers));
  if (report.durationMs === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'voxq-probe-'));
    try {
      const file = join(dir, 'audio');
      await writeFile(file, bytes);
      report = checked(parseReport(await runFfprobe(binary, [...args('file'), '-i', fileUrl(file)], undefined, timeoutMs), bytes, demuxers));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (report.durationMs === undefined || report.durationMs <= 0) {
    throw new InputError('audio_corrupt', 'The audio file has a valid header but no sound in it: it looks cut off or damaged.');
  }
  return { ...report.audio, durationMs: report.durationMs };
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Report {
  audio: Omit<ProbedAudio, 'durationMs'>;
  durationMs: number | undefined;
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string };
  streams?: { codec_type?: string; codec_name?: string; sample_rate?: string; channels?: number; duration?: string }[];
}

function parseReport(result: RunResult, bytes: Uint8Array, demuxers: readonly string[]): Report {
  if (result.code !== 0) throw unreadable(bytes, result.stderr, demuxers);
  let json: FfprobeJson;
  try {
    json = JSON.parse(result.stdout) as FfprobeJson;
  } catch (cause) {
    throw new InputError('audio_corrupt', 'The audio file could not be read.', { cause });
  }
  const stream = json.streams?.find((s) => s.codec_type === 'audio');
  const formatName = json.format?.format_name;
  if (!stream || !formatName) {
    throw new InputError('audio_not_audio', 'The file has no audio track: send a recording such as WAV, MP3, OGG, FLAC, M4A or WebM.');
  }
  const sampleRateHz = Number(stream.sample_rate);
  const channels = stream.channels ?? 0;
  if (!Number.isFinite(sampleRateHz) || sampleRateHz <= 0 || channels <= 0) {
    throw new InputError('audio_corrupt', 'The audio track is damaged: its sample rate or channel count cannot be read.');
  }
  const known = containerFor(formatName);
  const seconds = Number(json.format?.duration ?? stream.duration);
  return {
    audio: {
      container: known?.container ?? formatName.split(',')[0] ?? formatName,
      codec: stream.codec_name ?? 'unknown',
      sampleRateHz,
      channels,
      mimeType: known?.mimeType ?? 'application/octet-stream',
    },
    durationMs: Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined,
  };
}

/**
 * A playlist or a container not accepted says so; bytes that start like a known audio container
 * but do not parse are corrupt; anything else is not audio.
 */
function unreadable(bytes: Uint8Array, stderr: string, demuxers: readonly string[]): InputError {
  const refused = refusedDemuxer(stderr);
  const unsupported = refused === undefined ? undefined : unsupportedContainer(refused, demuxers);
  if (unsupported) return unsupported;
  const detail = { cause: new Error(stderr.trim().slice(0, 500)) };
  if (looksLikeAudio(bytes)) {
    return new InputError('audio_corrupt', 'The audio file is damaged or cut off and cannot be read.', detail);
  }
  return new InputError(
    'audio_not_audio',
    'The file is not audio (or not a format voxq can read): send a recording such as WAV, MP3, OGG, FLAC, M4A or WebM.',
    detail,
  );
}

function looksLikeAudio(bytes: Uint8Array): boolean {
  const ascii = (offset: number, length: number): string => String.fromCharCode(...bytes.subarray(offset, offset + length));
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  return (
    ascii(0, 4) === 'RIFF' ||
    ascii(0, 4) === 'OggS' ||
    ascii(0, 4) === 'fLaC' ||
    ascii(0, 3) === 'ID3' ||
    ascii(4, 4) === 'ftyp' ||
    (b0 === 0x1a && b1 === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) || // EBML (webm/matroska)
    (b0 === 0xff && (b1 & 0xe0) === 0xe0) // MPEG audio frame sync
  );
}

async function runFfprobe(binary: string, args: string[], stdin: Uint8Array | undefined, timeoutMs: number): Promise<RunResult> {
  try {
    // ffprobe stops reading once it knows enough (or gives up): runProcess ignores the EPIPE.
    const { code, stdout, stderr } = await runProcess(binary, args, { timeoutMs, ...(stdin ? { stdin } : {}) });
    return { code, stdout: stdout.toString('utf8'), stderr };
  } catch (error) {
    if (error instanceof ProcessError && error.reason === 'timeout') {
      throw new TimeoutError('probe_timeout', `ffprobe did not finish reading the audio within ${timeoutMs} ms.`);
    }
    throw new VoxqError('ffprobe_unavailable', `ffprobe could not be started (${binary}); install ffmpeg.`, { cause: error });
  }
}
