// Batch records in MongoDB: one insert on `_id` = key (atomic on FerretDB v1 too); a duplicate
// key means another run or a re-delivered job recorded it first, and that record is kept.
import type { Collection, Db } from 'mongodb';
import { batchRecordSchema, type BatchRecord } from '../contracts/batch.js';
import type { BatchRecordStore } from '../ports/batch-record-store.js';
import { isDuplicateKeyError, withoutUndefined } from './mongo-support.js';

export const BATCH_RECORDS_COLLECTION = 'batch_transcripts';

type BatchRecordDocument = Omit<BatchRecord, 'key'> & { _id: string };

/** The BatchRecordStore on MongoDB: batch transcription's records, first write wins. */
export class MongoBatchRecordStore implements BatchRecordStore {
  private readonly records: Collection<BatchRecordDocument>;

  constructor(db: Db) {
    this.records = db.collection<BatchRecordDocument>(BATCH_RECORDS_COLLECTION);
  }

  async save(record: BatchRecord): Promise<BatchRecord> {
    const { key, ...rest } = record;
    try {
      await this.records.insertOne(withoutUndefined({ _id: key, ...rest }));
      return record;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.get(key);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(key: string): Promise<BatchRecord | null> {
    const doc = await this.records.findOne({ _id: key });
    return doc ? fromDocument(doc) : null;
  }

  async getMany(keys: readonly string[]): Promise<BatchRecord[]> {
    if (keys.length === 0) return [];
    const docs = await this.records.find({ _id: { $in: [...keys] } }).toArray();
    return docs.map(fromDocument);
  }

  count(): Promise<number> {
    return this.records.countDocuments({});
  }
}

function fromDocument(doc: BatchRecordDocument): BatchRecord {
  const { _id, ...rest } = doc;
  return batchRecordSchema.parse({ key: _id, ...rest });
}
