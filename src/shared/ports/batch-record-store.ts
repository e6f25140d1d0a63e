// The record of what batch transcription has done, keyed by content + options. First write wins,
// so a chunk merged twice (a re-delivered job, two runs at once) is recorded once.
import type { BatchRecord } from '../contracts/batch.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface BatchRecordStore {
  /** Records a transcript; when the key is already recorded the stored one is kept and returned. */
  save(record: BatchRecord): Promise<BatchRecord>;
  get(key: string): Promise<BatchRecord | null>;
  /** The records among `keys` (any order; unknown keys are left out). */
  getMany(keys: readonly string[]): Promise<BatchRecord[]>;
  count(): Promise<number>;
}

export const BATCH_RECORD_STORE_PORT: PortSpec = { name: 'BatchRecordStore', methods: ['save', 'get', 'getMany', 'count'] };

/** The seed's isinstance check: every method of BatchRecordStore is there. */
export function isBatchRecordStore(value: unknown): value is BatchRecordStore {
  return conformsTo(value, BATCH_RECORD_STORE_PORT);
}
