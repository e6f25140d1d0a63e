// One suite for every BatchRecordStore: in memory and on MongoDB/FerretDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../src/shared/contracts/batch.js';
import { isBatchRecordStore, type BatchRecordStore } from '../../src/shared/ports/batch-record-store.js';

export interface BatchRecordStoreUnderTest {
  impl: BatchRecordStore;
  close(): Promise<void>;
}

let n = 0;
export function sampleRecord(overrides: Partial<BatchRecord> = {}): BatchRecord {
  n += 1;
  return {
    key: n.toString(16).padStart(40, 'a'),
    contentSha256: 'c'.repeat(64),
    language: 'pt-BR',
    durationMs: 12_345,
    speechMs: 10_000,
    chunkCount: 2,
    text: 'olá mundo',
    segments: [
      { startMs: 0, endMs: 800, text: 'olá', confidence: 0.9 },
      { startMs: 6000, endMs: 6900, text: 'mundo' },
    ],
    provider: 'groq',
    model: 'whisper-large-v3-turbo',
    createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    ...overrides,
  };
}

export function describeBatchRecordStoreContract(name: string, make: () => Promise<BatchRecordStoreUnderTest>): void {
  describe(`BatchRecordStore contract: ${name}`, () => {
    let subject: BatchRecordStoreUnderTest;
    let store: BatchRecordStore;

    beforeAll(async () => {
      subject = await make();
      store = subject.impl;
    });
    afterAll(() => subject.close());

    it('passes its type guard', () => {
      expect(isBatchRecordStore(store)).toBe(true);
      expect(isBatchRecordStore({ save: () => undefined, get: () => undefined })).toBe(false);
    });

    it('saves and reads a record back as it was (segments, optional confidence, dates)', async () => {
      const record = sampleRecord();
      expect(await store.save(record)).toEqual(record);
      expect(await store.get(record.key)).toEqual(record);
      expect(await store.get('f'.repeat(40))).toBeNull();
    });

    it('keeps the first write of a key and returns it to a second writer', async () => {
      const record = sampleRecord();
      await store.save(record);
      const second = await store.save({ ...record, text: 'outro texto', createdAt: new Date(record.createdAt.getTime() + 5000) });
      expect(second).toEqual(record);
      expect((await store.get(record.key))?.text).toBe('olá mundo');
    });

    it('saves concurrently once', async () => {
      const record = sampleRecord();
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.save({ ...record, text: `versão ${i}` })));
      const stored = await store.get(record.key);
      for (const r of results) expect(r.text).toBe(stored?.text);
    });

    it('reads many by key, leaving unknown keys out, and counts', async () => {
      const a = sampleRecord({ text: '' , segments: [], chunkCount: 0 });
      const b = sampleRecord();
      await store.save(a);
      await store.save(b);
      const found = await store.getMany([a.key, 'e'.repeat(40), b.key]);
      expect(found.map((r) => r.key).sort()).toEqual([a.key, b.key].sort());
      expect(await store.getMany([])).toEqual([]);
      expect(await store.count()).toBeGreaterThanOrEqual(5);
    });
  });
}
