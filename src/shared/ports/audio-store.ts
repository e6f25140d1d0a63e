// Audio lives in the database (GridFS), never in Redis: jobs carry its id.
import { hasMethods } from './has-methods.js';

export interface StoredAudioInfo {
  audioId: string;
  mimeType: string;
  sizeBytes: number;
}

export interface AudioStore {
  /** Stores bytes under `audioId` when given (idempotent: a second put of the same id keeps the first). */
  put(bytes: Uint8Array, meta: { mimeType: string; audioId?: string; turnId?: string }): Promise<StoredAudioInfo>;
  /** Throws NotFoundError when absent. */
  get(audioId: string): Promise<{ bytes: Uint8Array; info: StoredAudioInfo }>;
  delete(audioId: string): Promise<void>;
}

export function isAudioStore(value: unknown): value is AudioStore {
  return hasMethods(value, ['put', 'get', 'delete']);
}
