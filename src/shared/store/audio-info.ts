// What both audio stores check before storing bytes, and how they name new audio.
import { randomUUID } from 'node:crypto';
import { InputError } from '../errors.js';

export function newAudioId(): string {
  return `aud_${randomUUID()}`;
}

export function checkAudioPut(bytes: Uint8Array, meta: { mimeType: string; audioId?: string }): void {
  if (!(bytes instanceof Uint8Array)) throw new InputError('audio_bytes_invalid', 'audio must be given as a Uint8Array');
  if (typeof meta.mimeType !== 'string' || meta.mimeType.length === 0) {
    throw new InputError('audio_mime_type_missing', 'audio needs a MIME type such as audio/wav');
  }
  if (meta.audioId !== undefined && (typeof meta.audioId !== 'string' || meta.audioId.length === 0)) {
    throw new InputError('audio_id_invalid', 'an audio id, when given, must be a non-empty string');
  }
}
