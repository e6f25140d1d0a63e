// Audio lives in the database (GridFS), never in Redis: jobs carry its id.
import { conformsTo, type PortSpec } from './port-spec.js';

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

export const AUDIO_STORE_PORT: PortSpec = { name: 'AudioStore', methods: ['put', 'get', 'delete'] };

/** The seed's isinstance check: every method of AudioStore is there. */
export function isAudioStore(value: unknown): value is AudioStore {
  return conformsTo(value, AUDIO_STORE_PORT);
}
