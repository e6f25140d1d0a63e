// MIME type → the file extension an API reads the audio's format from: transcription uploads are
// named by it, and the speech-native LLM sends WAV and MP3 as they are.
import type { AudioInput } from '../ports/audio.js';

const EXTENSIONS: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
};

/** The type without parameters, lower-cased: `audio/WAV; codecs=1` → `audio/wav`. */
export function baseMimeType(mimeType: string): string {
  return mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** `audio/wav` → `wav`; undefined for a type not listed. */
export function knownExtension(mimeType: string): string | undefined {
  return EXTENSIONS[baseMimeType(mimeType)];
}

/** The name an upload goes under: the audio's own, else `audio.<extension>` (the subtype where none is known, else `bin`). */
export function uploadFileName(audio: AudioInput): string {
  if (audio.fileName !== undefined) return audio.fileName;
  return `audio.${knownExtension(audio.mimeType) ?? (baseMimeType(audio.mimeType).split('/')[1] || 'bin')}`;
}
