// Audio bytes in memory, with the GridFS store's semantics; bytes are copied in and out.
import { NotFoundError } from '../errors.js';
import type { AudioStore, StoredAudioInfo } from '../ports/audio-store.js';
import { checkAudioPut, newAudioId } from './audio-info.js';
import { settle } from './settle.js';

export class MemoryAudioStore implements AudioStore {
  private readonly audio = new Map<string, { bytes: Uint8Array; info: StoredAudioInfo }>();

  put(bytes: Uint8Array, meta: { mimeType: string; audioId?: string; turnId?: string }): Promise<StoredAudioInfo> {
    return settle(() => {
      checkAudioPut(bytes, meta);
      const audioId = meta.audioId ?? newAudioId();
      const existing = this.audio.get(audioId);
      if (existing !== undefined) return { ...existing.info };
      const info: StoredAudioInfo = { audioId, mimeType: meta.mimeType, sizeBytes: bytes.byteLength };
      this.audio.set(audioId, { bytes: new Uint8Array(bytes), info });
      return { ...info };
    });
  }

  get(audioId: string): Promise<{ bytes: Uint8Array; info: StoredAudioInfo }> {
    const stored = this.audio.get(audioId);
    if (stored === undefined) return Promise.reject(new NotFoundError('audio_not_found', `no audio ${audioId}`));
    return Promise.resolve({ bytes: new Uint8Array(stored.bytes), info: { ...stored.info } });
  }

  delete(audioId: string): Promise<void> {
    this.audio.delete(audioId);
    return Promise.resolve();
  }
}
