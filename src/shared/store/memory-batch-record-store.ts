// Batch records in memory (benchmarks, tests): first write wins, as on MongoDB.
import type { BatchRecord } from '../contracts/batch.js';
import type { BatchRecordStore } from '../ports/batch-record-store.js';
import { settle } from './settle.js';

export class MemoryBatchRecordStore implements BatchRecordStore {
  private readonly records = new Map<string, BatchRecord>();

  save(record: BatchRecord): Promise<BatchRecord> {
    return settle(() => {
      const existing = this.records.get(record.key);
      if (existing) return structuredClone(existing);
      this.records.set(record.key, structuredClone(record));
      return structuredClone(record);
    });
  }

  get(key: string): Promise<BatchRecord | null> {
    return settle(() => {
      const found = this.records.get(key);
      return found ? structuredClone(found) : null;
    });
  }

  getMany(keys: readonly string[]): Promise<BatchRecord[]> {
    return settle(() => keys.flatMap((k) => {
      const found = this.records.get(k);
      return found ? [structuredClone(found)] : [];
    }));
  }

  count(): Promise<number> {
    return settle(() => this.records.size);
  }
}
