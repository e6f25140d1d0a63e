// One suite for every AudioStore: in memory and on GridFS (MongoDB/FerretDB).
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, NotFoundError } from '../../src/shared/errors.js';
import { isAudioStore, type AudioStore } from '../../src/shared/ports/audio-store.js';

export interface AudioStoreUnderTest {
  impl: AudioStore;
  close(): Promise<void>;
  /** How many stored files (and, where it applies, chunk sets) exist for an id, when the store can tell. */
  countFiles?(audioId: string): Promise<number>;
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(
    Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
  );
}

function audioId(): string {
  return `aud_test_${randomUUID()}`;
}

export function describeAudioStoreContract(name: string, make: () => Promise<AudioStoreUnderTest>): void {
  describe(`AudioStore contract: ${name}`, () => {
    let subject: AudioStoreUnderTest;
    let store: AudioStore;

    beforeAll(async () => {
      subject = await make();
      store = subject.impl;
    });
    afterAll(async () => {
      await subject.close();
    });

    it('passes its type guard', () => {
      expect(isAudioStore(store)).toBe(true);
    });

    it('stores bytes under a generated aud_ id and reads them back', async () => {
      const bytes = new Uint8Array([1, 2, 3, 4, 5]);
      const info = await store.put(bytes, { mimeType: 'audio/wav', turnId: 'turn_x' });
      expect(info.audioId).toMatch(/^aud_[0-9a-f-]{36}$/);
      expect(info).toEqual({ audioId: info.audioId, mimeType: 'audio/wav', sizeBytes: 5 });
      const read = await store.get(info.audioId);
      expect(read.info).toEqual(info);
      expect(sameBytes(read.bytes, bytes)).toBe(true);
      expect(read.bytes).toBeInstanceOf(Uint8Array);
    });

    it('round-trips 5 MB byte for byte', async () => {
      const bytes = new Uint8Array(randomBytes(5 * 1024 * 1024 + 17));
      const info = await store.put(bytes, { mimeType: 'audio/ogg', audioId: audioId() });
      expect(info.sizeBytes).toBe(bytes.byteLength);
      const read = await store.get(info.audioId);
      expect(read.bytes.byteLength).toBe(bytes.byteLength);
      expect(sameBytes(read.bytes, bytes)).toBe(true);
    });

    it('round-trips empty audio', async () => {
      const info = await store.put(new Uint8Array(0), { mimeType: 'audio/wav' });
      const read = await store.get(info.audioId);
      expect(read.bytes.byteLength).toBe(0);
      expect(read.info.sizeBytes).toBe(0);
    });

    it('keeps the first bytes when an id is put twice', async () => {
      const id = audioId();
      const first = await store.put(new Uint8Array([1, 1, 1]), { mimeType: 'audio/wav', audioId: id });
      const second = await store.put(new Uint8Array([2, 2, 2, 2]), { mimeType: 'audio/mpeg', audioId: id });
      expect(second).toEqual(first);
      const read = await store.get(id);
      expect([...read.bytes]).toEqual([1, 1, 1]);
      expect(read.info.mimeType).toBe('audio/wav');
    });

    it('stores one file when 5 puts of the same id race', async () => {
      const id = audioId();
      const payloads = Array.from({ length: 5 }, () => new Uint8Array(randomBytes(600 * 1024)));
      const infos = await Promise.all(payloads.map((bytes) => store.put(bytes, { mimeType: 'audio/wav', audioId: id })));
      for (const info of infos) expect(info).toEqual(infos[0]);
      const read = await store.get(id);
      // One whole payload, never chunks of several.
      expect(payloads.filter((bytes) => sameBytes(read.bytes, bytes))).toHaveLength(1);
      if (subject.countFiles !== undefined) expect(await subject.countFiles(id)).toBe(1);
    });

    it('throws NotFoundError audio_not_found for an unknown id', async () => {
      const error: unknown = await store.get(audioId()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe('audio_not_found');
    });

    it('deletes idempotently, after which the id can be used again', async () => {
      const id = audioId();
      await store.put(new Uint8Array([7]), { mimeType: 'audio/wav', audioId: id });
      await store.delete(id);
      await expect(store.get(id)).rejects.toBeInstanceOf(NotFoundError);
      await store.delete(id);
      await store.delete(audioId());
      await store.put(new Uint8Array([8, 8]), { mimeType: 'audio/wav', audioId: id });
      expect([...(await store.get(id)).bytes]).toEqual([8, 8]);
      if (subject.countFiles !== undefined) expect(await subject.countFiles(id)).toBe(1);
    });

    it('copies bytes in and out', async () => {
      const bytes = new Uint8Array([1, 2, 3]);
      const info = await store.put(bytes, { mimeType: 'audio/wav' });
      bytes[0] = 99;
      const first = await store.get(info.audioId);
      first.bytes[1] = 99;
      expect([...(await store.get(info.audioId)).bytes]).toEqual([1, 2, 3]);
    });

    it('accepts a Buffer view into a larger buffer and stores only the view', async () => {
      const whole = Buffer.from([9, 9, 1, 2, 3, 9]);
      const view = whole.subarray(2, 5);
      const info = await store.put(view, { mimeType: 'audio/wav' });
      expect(info.sizeBytes).toBe(3);
      expect([...(await store.get(info.audioId)).bytes]).toEqual([1, 2, 3]);
    });

    it('rejects audio without a MIME type with InputError', async () => {
      await expect(store.put(new Uint8Array([1]), { mimeType: '' })).rejects.toBeInstanceOf(InputError);
    });
  });
}
