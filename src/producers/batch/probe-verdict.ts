// What a file that ffprobe would not describe as audio means for the batch: skipped when it is
// clearly not audio (notes.txt, photo.jpg, a playlist, an empty file without an audio name), failed as
// "corrupt audio (…)" when its bytes start like audio or its name says it is audio (a garbled
// `.mp3`), failed with the reason in words when it cannot be read.
import { extname } from 'node:path';
import { VoxqError } from '../../shared/errors.js';
import { fsReason } from './fs-reasons.js';

/** Names only audio has; containers that are as often video (mp4, mkv, webm) are not here. */
const AUDIO_EXTENSIONS = new Set([
  '.aac', '.ac3', '.aif', '.aifc', '.aiff', '.amr', '.ape', '.au', '.caf', '.dts', '.eac3', '.flac', '.m4a', '.m4b',
  '.mka', '.mp2', '.mp3', '.mpga', '.oga', '.ogg', '.opus', '.spx', '.tta', '.wav', '.wave', '.weba', '.wma', '.wv',
]);

export function hasAudioName(relPath: string): boolean {
  return AUDIO_EXTENSIONS.has(extname(relPath).toLowerCase());
}

export type ProbeVerdict = { skip: true; reason: string } | { skip: false; reason: string };

export function probeVerdict(relPath: string, error: unknown): ProbeVerdict {
  const code = error instanceof VoxqError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const audioName = hasAudioName(relPath);
  switch (code) {
    case 'audio_not_audio':
      return audioName
        ? { skip: false, reason: `corrupt audio (ffprobe does not read it as audio: ${message}; its name ends in ${extname(relPath)})` }
        : { skip: true, reason: message.startsWith('not an audio file') ? message : `not an audio file: ${message}` };
    case 'audio_empty':
      return audioName ? { skip: false, reason: `corrupt audio (${message})` } : { skip: true, reason: `not an audio file: ${message}` };
    case 'audio_unsupported_container':
      // A playlist or reference file: never opened; under an audio name it is not the recording it says.
      return audioName ? { skip: false, reason: `not audio: ${message}` } : { skip: true, reason: `not an audio file: ${message}` };
    case 'audio_corrupt':
      return { skip: false, reason: `corrupt audio (${message})` };
    case 'audio_unreadable':
      return { skip: false, reason: `cannot read this file: ${fsReason((error as Error).cause)}` };
    default:
      return { skip: false, reason: code ? `${code}: ${message}` : message };
  }
}
