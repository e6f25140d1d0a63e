// Every store contract against both implementations: in memory, and MongoDB (the bundled
// FerretDB here, a real MongoDB when MONGO_URL is set), each Mongo suite in its own database.
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/shared/errors.js';
import { isAudioStore } from '../../src/shared/ports/audio-store.js';
import { isConversationStore } from '../../src/shared/ports/conversation-store.js';
import { isSessionManager } from '../../src/shared/ports/session-manager.js';
import { isTurnStore } from '../../src/shared/ports/turn-store.js';
import { ensureIndexes } from '../../src/shared/store/indexes.js';
import { MemoryAudioStore } from '../../src/shared/store/memory-audio-store.js';
import { MemoryConversationStore } from '../../src/shared/store/memory-conversation-store.js';
import { MemorySessionManager } from '../../src/shared/store/memory-session-manager.js';
import { MemoryTurnStore } from '../../src/shared/store/memory-turn-store.js';
import { AUDIO_BUCKET, AUDIO_UPLOADS_COLLECTION, MongoAudioStore } from '../../src/shared/store/mongo-audio-store.js';
import { MongoConversationStore } from '../../src/shared/store/mongo-conversation-store.js';
import { MongoSessionManager } from '../../src/shared/store/mongo-session-manager.js';
import { createMemoryStores, openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { MongoTurnStore } from '../../src/shared/store/mongo-turn-store.js';
import { describeAudioStoreContract } from '../contracts/audio-store.contract.js';
import { describeConversationStoreContract } from '../contracts/conversation-store.contract.js';
import { describeSessionManagerContract } from '../contracts/session-manager.contract.js';
import { describeTurnStoreContract, makeSttOutput, makeTiming, makeTurn } from '../contracts/turn-store.contract.js';
import { connectTestDb, testMongoUrl, uniqueDbName } from '../support/mongo.js';

describeTurnStoreContract('memory', () => Promise.resolve({ impl: new MemoryTurnStore(), close: () => Promise.resolve() }));
describeTurnStoreContract('mongo', async () => {
  const test = await connectTestDb('turns');
  await ensureIndexes(test.db);
  return { impl: new MongoTurnStore(test.db), close: () => test.drop() };
});

describeAudioStoreContract('memory', () => Promise.resolve({ impl: new MemoryAudioStore(), close: () => Promise.resolve() }));
describeAudioStoreContract('mongo gridfs', async () => {
  const test = await connectTestDb('audio');
  await ensureIndexes(test.db);
  return {
    impl: new MongoAudioStore(test.db),
    close: () => test.drop(),
    countFiles: async (audioId: string) => {
      const files = await test.db.collection(`${AUDIO_BUCKET}.files`).countDocuments({ _id: audioId as never });
      const chunk0 = await test.db.collection(`${AUDIO_BUCKET}.chunks`).countDocuments({ files_id: audioId, n: 0 });
      return Math.max(files, chunk0);
    },
  };
});

describeConversationStoreContract('memory', () =>
  Promise.resolve({ impl: new MemoryConversationStore(), close: () => Promise.resolve() }),
);
describeConversationStoreContract('mongo', async () => {
  const test = await connectTestDb('messages');
  await ensureIndexes(test.db);
  return { impl: new MongoConversationStore(test.db), close: () => test.drop() };
});

describeSessionManagerContract('memory', () => {
  const conversations = new MemoryConversationStore();
  return Promise.resolve({ impl: new MemorySessionManager(conversations), conversations, close: () => Promise.resolve() });
});
describeSessionManagerContract('mongo', async () => {
  const test = await connectTestDb('sessions');
  await ensureIndexes(test.db);
  const conversations = new MongoConversationStore(test.db);
  return { impl: new MongoSessionManager(test.db, conversations), conversations, close: () => test.drop() };
});

describe('store type guards', () => {
  const noop = (): Promise<void> => Promise.resolve();

  it('reject values that are not objects', () => {
    for (const value of [null, undefined, 42, 'store', () => undefined]) {
      expect(isTurnStore(value)).toBe(false);
      expect(isAudioStore(value)).toBe(false);
      expect(isConversationStore(value)).toBe(false);
      expect(isSessionManager(value)).toBe(false);
    }
  });

  it('reject mocks missing any one method', () => {
    const complete = {
      turn: ['create', 'get', 'recordStage', 'saveStage', 'markRunning', 'complete', 'fail', 'interrupt', 'listBySession', 'deleteSession'],
      audio: ['put', 'get', 'delete'],
      conversation: ['saveMessage', 'history', 'statistics', 'deleteSession', 'cutMessage'],
      session: ['createSession', 'getSession', 'addInteraction', 'context', 'inactiveSince', 'deleteSession'],
    };
    const guards = { turn: isTurnStore, audio: isAudioStore, conversation: isConversationStore, session: isSessionManager };
    for (const [port, methods] of Object.entries(complete) as [keyof typeof complete, string[]][]) {
      const full = Object.fromEntries(methods.map((m) => [m, noop]));
      expect(guards[port](full)).toBe(true);
      for (const missing of methods) {
        const partial = Object.fromEntries(methods.filter((m) => m !== missing).map((m) => [m, noop]));
        expect(guards[port](partial), `${port} without ${missing}`).toBe(false);
        expect(guards[port]({ ...partial, [missing]: 'not a function' })).toBe(false);
      }
    }
  });

  it('accept every store the factories build', () => {
    const stores = createMemoryStores();
    expect(isTurnStore(stores.turns)).toBe(true);
    expect(isAudioStore(stores.audio)).toBe(true);
    expect(isConversationStore(stores.conversations)).toBe(true);
    expect(isSessionManager(stores.sessions)).toBe(true);
  });
});

describe('openMongoStores', () => {
  it('opens the four stores on one client, ensures indexes idempotently, and closes once', async () => {
    const dbName = uniqueDbName('open_stores');
    const stores = await openMongoStores(testMongoUrl(), dbName);
    try {
      await ensureIndexes(stores.db); // a second time changes nothing
      const indexes = await stores.db.collection('messages').indexes();
      expect(indexes.map((index) => index.key)).toContainEqual({ sessionId: 1, createdAt: -1, seq: -1 });
      const session = await stores.sessions.createSession('user-1');
      expect(await stores.sessions.addInteraction({ sessionId: session.sessionId, userMessage: 'oi', assistantResponse: 'olá' })).toBe(true);
      expect((await stores.conversations.statistics(session.sessionId)).messageCount).toBe(2);
    } finally {
      await stores.db.dropDatabase();
      await stores.close();
      await stores.close();
    }
  });
});

describe('MongoTurnStore on the database', () => {
  it('keeps the turns document in step with what reads return', async () => {
    const test = await connectTestDb('turn_copy');
    try {
      const store = new MongoTurnStore(test.db);
      const turn = makeTurn();
      await store.create(turn);
      await store.markRunning(turn.turnId);
      await store.recordStage(turn.turnId, 'stt', makeSttOutput('olá'), makeTiming());
      await store.complete(turn.turnId, new Date('2026-02-03T04:05:06.007Z'));
      const doc = await test.db.collection('turns').findOne({ _id: turn.turnId as never });
      expect(doc).toMatchObject({ status: 'completed', completedAt: new Date('2026-02-03T04:05:06.007Z'), stages: { stt: { output: { text: 'olá' } } } });
      expect(await store.get(turn.turnId)).toMatchObject({ status: 'completed', stages: { stt: { output: { text: 'olá' } } } });
    } finally {
      await test.drop();
    }
  });

  it('never leaves a turn running when markRunning races complete', async () => {
    const test = await connectTestDb('turn_race');
    try {
      const store = new MongoTurnStore(test.db);
      const turns = Array.from({ length: 5 }, () => makeTurn());
      for (const turn of turns) await store.create(turn);
      await Promise.all(turns.flatMap((turn) => [store.markRunning(turn.turnId), store.complete(turn.turnId, new Date()), store.markRunning(turn.turnId)]));
      for (const turn of turns) expect((await store.get(turn.turnId))?.status).toBe('completed');
    } finally {
      await test.drop();
    }
  });
});

describe('MongoAudioStore after a crashed upload', () => {
  it('takes over a stale claim and clears the chunks the crashed upload left', async () => {
    const test = await connectTestDb('audio_crash');
    try {
      await ensureIndexes(test.db);
      const audioId = 'aud_crashed_upload';
      // What a process that died mid-upload leaves: its claim and a partial chunk, no files doc.
      await test.db.collection(AUDIO_UPLOADS_COLLECTION).insertOne({ _id: audioId as never, owner: 'dead', claimedAt: new Date(Date.now() - 60_000) });
      await test.db.collection(`${AUDIO_BUCKET}.chunks`).insertOne({ files_id: audioId, n: 0, data: Buffer.from([6, 6, 6]) });
      const store = new MongoAudioStore(test.db, { staleClaimMs: 1_000 });
      const info = await store.put(new Uint8Array([1, 2, 3, 4]), { mimeType: 'audio/wav', audioId });
      expect(info.sizeBytes).toBe(4);
      expect([...(await store.get(audioId)).bytes]).toEqual([1, 2, 3, 4]);
      expect(await test.db.collection(`${AUDIO_BUCKET}.chunks`).countDocuments({ files_id: audioId })).toBe(1);
      expect(await test.db.collection(AUDIO_UPLOADS_COLLECTION).countDocuments({})).toBe(0);
    } finally {
      await test.drop();
    }
  });

  it('gives up with TimeoutError when a live claim outlasts the wait', async () => {
    const test = await connectTestDb('audio_wait');
    try {
      await test.db.collection(AUDIO_UPLOADS_COLLECTION).insertOne({ _id: 'aud_busy' as never, owner: 'alive', claimedAt: new Date() });
      const store = new MongoAudioStore(test.db, { waitTimeoutMs: 50 });
      const error: unknown = await store.put(new Uint8Array([1]), { mimeType: 'audio/wav', audioId: 'aud_busy' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).code).toBe('audio_put_timeout');
    } finally {
      await test.drop();
    }
  });
});
