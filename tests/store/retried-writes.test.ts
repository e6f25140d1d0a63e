// Writes repeated as a retry repeats them: after a failover or a lost acknowledgement, the same
// command reaches the database again although the first one landed (MongoDB's retryable writes
// make the server answer such a retry with the first result; a driver without them, FerretDB,
// or voxq's own retry of a job after an error sends it again). Every store is run on a Db whose
// collections send each write twice, the caller seeing the second answer: nothing may be stored
// twice, and no call may fail or report the wrong outcome because its own first write landed.
import type { Collection, Db, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionId } from '../../src/shared/contracts/ids.js';
import { ensureIndexes } from '../../src/shared/store/indexes.js';
import { MongoApiKeyStore, API_KEYS_COLLECTION } from '../../src/shared/store/mongo-api-key-store.js';
import { BATCH_RECORDS_COLLECTION, MongoBatchRecordStore } from '../../src/shared/store/mongo-batch-record-store.js';
import { MESSAGES_COLLECTION, MongoConversationStore } from '../../src/shared/store/mongo-conversation-store.js';
import { INTERACTIONS_COLLECTION, MongoSessionManager, SESSIONS_COLLECTION } from '../../src/shared/store/mongo-session-manager.js';
import { MongoAudioStore } from '../../src/shared/store/mongo-audio-store.js';
import { MongoTurnStore, TURN_TRANSITIONS_COLLECTION, TURNS_COLLECTION } from '../../src/shared/store/mongo-turn-store.js';
import { makeTurn } from '../contracts/turn-store.contract.js';
import { connectTestDb, type TestDb } from '../support/mongo.js';

const WRITES = new Set<PropertyKey>(['insertOne', 'insertMany', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndUpdate', 'findOneAndReplace', 'bulkWrite']);

/** Each write sent twice: the first one lands (or fails) unseen, the caller gets the second's answer. */
function retryingCollection<T extends Document>(collection: Collection<T>): Collection<T> {
  return new Proxy(collection, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!WRITES.has(prop)) return method.bind(target);
      return async (...args: unknown[]) => {
        await Promise.resolve(method.apply(target, args)).catch(() => undefined);
        return method.apply(target, args);
      };
    },
  });
}

function retryingDb(db: Db): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'collection') return (name: string) => retryingCollection(target.collection(name));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let test: TestDb;
beforeAll(async () => {
  test = await connectTestDb('retried_writes');
  await ensureIndexes(test.db);
});
afterAll(async () => {
  await test.drop();
});

const count = (collection: string, filter: Document = {}) => test.db.collection(collection).countDocuments(filter);

describe('stores under repeated writes', () => {
  it('sessions, interactions and messages: each stored once, every call answering as if written once', async () => {
    const db = retryingDb(test.db);
    const conversations = new MongoConversationStore(db);
    const sessions = new MongoSessionManager(db, conversations);
    const session = await sessions.createSession('user-retry', { channel: 'test' });
    expect(await count(SESSIONS_COLLECTION, { _id: session.sessionId })).toBe(1);
    expect(await count(SESSIONS_COLLECTION, { userId: 'user-retry' })).toBe(1);

    const message = await conversations.saveMessage({ sessionId: session.sessionId, role: 'user', content: 'Olá' });
    expect(message.content).toBe('Olá');
    expect(await sessions.addInteraction({ sessionId: session.sessionId, userMessage: 'Que horas são?', assistantResponse: 'Meio-dia.', turnId: 'turn_retry_1' })).toBe(true);
    expect(await sessions.addInteraction({ sessionId: session.sessionId, userMessage: 'E agora?', assistantResponse: 'Ainda meio-dia.' })).toBe(true);
    expect(await count(INTERACTIONS_COLLECTION, { sessionId: session.sessionId })).toBe(2);
    expect(await count(MESSAGES_COLLECTION, { sessionId: session.sessionId })).toBe(5);
    expect((await conversations.statistics(session.sessionId)).messageCount).toBe(5);
    expect((await sessions.getSession(session.sessionId))?.interactionCount).toBe(2);
    expect(await conversations.cutMessage(message.messageId, 'Ol', { interrupted: true })).toBe(true);
  });

  it('turns: created once, each transition once, and the writer whose own first write landed still wins it', async () => {
    const store = new MongoTurnStore(retryingDb(test.db));
    const turn = makeTurn({ sessionId: newSessionId() });
    expect(await store.create(turn)).toBe(true);
    await store.markRunning(turn.turnId);
    const timing = { enqueuedAt: new Date(), startedAt: new Date(), finishedAt: new Date(), queueWaitMs: 0, workMs: 1, attempts: 1 };
    expect(await store.saveStage(turn.turnId, 'llm', { output: { text: 'Olá!', provider: 'fake', model: 'fake', contextMessages: 1 }, timing })).toBe(true);
    expect(await store.complete(turn.turnId, new Date())).toBe(true);
    expect(await count(TURNS_COLLECTION, { _id: turn.turnId })).toBe(1);
    expect(await count(TURN_TRANSITIONS_COLLECTION, { turnId: turn.turnId })).toBe(3);
    const stored = await store.get(turn.turnId);
    expect(stored?.status).toBe('completed');
    // Another writer (a job run twice) still loses: its transition is not its own.
    expect(await store.complete(turn.turnId, new Date())).toBe(false);
    expect(await store.fail(turn.turnId, { stage: 'llm', code: 'late', message: 'late' }, new Date())).toBe(false);
  });

  it('batch records and API keys: stored once', async () => {
    const db = retryingDb(test.db);
    const batches = new MongoBatchRecordStore(db);
    const key = 'ab'.repeat(20);
    const record = { key, contentSha256: 'cd'.repeat(32), language: 'pt-BR', durationMs: 1000, speechMs: 800, chunkCount: 1, text: 'olá', segments: [], provider: 'fake', model: 'fake', createdAt: new Date() };
    expect(await batches.save(record)).toEqual(record);
    expect(await count(BATCH_RECORDS_COLLECTION, { _id: key })).toBe(1);
    const keys = new MongoApiKeyStore(db);
    const created = await keys.create({ name: 'retry', scopes: ['turns:read'] });
    expect(await count(API_KEYS_COLLECTION, { name: 'retry' })).toBe(1);
    expect(await keys.verify(created.key)).toMatchObject({ name: 'retry' });
  });

  it('audio: a put repeated with its id stores one file, in GridFS chunks when larger than a document', async () => {
    const audio = new MongoAudioStore(test.db);
    const bytes = new Uint8Array(17 * 1024 * 1024).map((_, i) => i % 251);
    const first = await audio.put(bytes, { mimeType: 'audio/wav', audioId: 'aud_retry_big' });
    const again = await audio.put(bytes, { mimeType: 'audio/wav', audioId: 'aud_retry_big' });
    expect(again).toEqual(first);
    expect(await count('audio.files', { _id: 'aud_retry_big' })).toBe(1);
    // 17 MiB is over MongoDB's 16 MiB document limit: GridFS keeps it in 255 KiB chunks.
    expect(await count('audio.chunks', { files_id: 'aud_retry_big' })).toBe(Math.ceil(bytes.byteLength / (255 * 1024)));
    const read = await audio.get('aud_retry_big');
    expect(read.bytes.byteLength).toBe(bytes.byteLength);
    expect(Buffer.from(read.bytes).equals(Buffer.from(bytes))).toBe(true);
  });
});
