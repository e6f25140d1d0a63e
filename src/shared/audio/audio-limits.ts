// What voxq lets ffmpeg and ffprobe read, and for how long. Audio arrives from strangers, so:
// - a length limit, checked on the duration the file declares before anything decodes it, and
//   again while decoding (a header may lie: 10 KB of FLAC that says 1 s can hold 2 h of silence);
// - an allow-list of demuxers, none of which opens another file or URL. ffmpeg's concat, hls,
//   dash, sdp, image2 and the like read other files or the network on the say-so of the bytes
//   they are given; here they are refused before they open anything, and every run names the
//   one protocol its input needs (`pipe` for stdin, `file` for a path) so nothing else is reachable.
import { InputError } from '../errors.js';

/** A turn's audio: at most ten minutes. */
export const MAX_TURN_AUDIO_MS = 10 * 60_000;

/**
 * A file of a batch: at most three hours. Preparing it decodes the whole file to memory
 * (16 kHz mono float, 64 KB a second: three hours ≈ 690 MB), so the limit bounds that too.
 */
export const MAX_BATCH_AUDIO_MS = 3 * 3_600_000;

/** Decoding stops this far past a limit: output longer than the limit proves the header lied. */
export const DECODE_SLACK_MS = 1_000;

/** What a turn accepts (the STT providers' formats): WAV, MP3, Ogg (Vorbis, Opus), FLAC, MP4/M4A, WebM/Matroska, ADTS AAC. */
export const TURN_DEMUXERS: readonly string[] = ['wav', 'mp3', 'ogg', 'flac', 'mov', 'matroska', 'aac'];

/** What batch transcription (and conversion) reads: the above and other audio or A/V containers that hold their media in themselves. */
export const SAFE_DEMUXERS: readonly string[] = [
  ...TURN_DEMUXERS,
  'aiff', 'au', 'caf', 'w64', 'wv', 'asf', 'amr', 'ape', 'tta', 'ac3', 'eac3', 'dts', 'avi', 'mpeg', 'mpegts', 'flv',
];

/** How ffmpeg/ffprobe reads the input: from stdin, or one file given as `file:<path>`. */
export type InputKind = 'pipe' | 'file';

/** Input options (before `-i`): only the input's own protocol, only these demuxers. */
export function inputGuard(kind: InputKind, demuxers: readonly string[]): string[] {
  return ['-protocol_whitelist', kind, '-format_whitelist', demuxers.join(',')];
}

/** A path as ffmpeg's file protocol, whatever the name holds (`concat:a|b`, `http:x`, `-i`). */
export function fileUrl(path: string): string {
  return `file:${path}`;
}

/**
 * The demuxer ffmpeg detected and the allow-list refused (`[hls @ 0x…] Format not on whitelist`),
 * or undefined when stderr says nothing of the kind.
 */
export function refusedDemuxer(stderr: string): string | undefined {
  const match = /\[([\w,-]+) @ 0x[0-9a-f]+\] Format not on whitelist/.exec(stderr);
  if (match) return match[1];
  return /Format not on whitelist/.test(stderr) ? 'unknown' : undefined;
}

/** Containers whose contents are references to other files or URLs. */
const REFERENCING = new Set(['concat', 'hls', 'applehttp', 'dash', 'sdp', 'rtsp', 'rtp', 'image2', 'imf', 'webm_dash_manifest', 'ffmetadata']);

/**
 * The error for a refused demuxer: a playlist or reference file, or audio in a container not
 * accepted here (`audio_unsupported_container`); undefined for anything else ffmpeg recognised
 * (a picture, subtitles …), which the caller reports as not audio.
 */
export function unsupportedContainer(demuxer: string, accepted: readonly string[]): InputError | undefined {
  const names = demuxer.split(',');
  const formats = accepted === TURN_DEMUXERS ? 'WAV, MP3, Ogg (Vorbis or Opus), FLAC, M4A/MP4, WebM/MKV or AAC' : 'a common audio or video format';
  if (names.some((n) => REFERENCING.has(n))) {
    return new InputError(
      'audio_unsupported_container',
      `the file is a playlist or reference file (${demuxer}): it points at other files or URLs, which voxq never opens. Send the recording itself, as ${formats}`,
    );
  }
  if (names.some((n) => SAFE_DEMUXERS.includes(n))) {
    return new InputError('audio_unsupported_container', `audio in a ${demuxer} container is not accepted here: send ${formats}`);
  }
  return undefined;
}

export function tooLong(durationMs: number, limitMs: number, how: 'declared' | 'decoded'): InputError {
  const said = how === 'declared' ? 'the audio is' : 'the audio decodes to more than';
  return new InputError('audio_too_long', `${said} ${formatDuration(durationMs)}; the limit is ${formatDuration(limitMs)}`);
}

function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(2)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}
