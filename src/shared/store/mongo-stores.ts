// The four stores on one MongoClient (or all in memory), wired the same way everywhere.
import { MongoClient, type Db } from 'mongodb';
import { ensureIndexes } from './indexes.js';
import { MemoryAudioStore } from './memory-audio-store.js';
import { MemoryBatchRecordStore } from './memory-batch-record-store.js';
import { MemoryConversationStore } from './memory-conversation-store.js';
import { MemorySessionManager } from './memory-session-manager.js';
import { MemoryTurnStore } from './memory-turn-store.js';
import { MongoAudioStore } from './mongo-audio-store.js';
import { MongoBatchRecordStore } from './mongo-batch-record-store.js';
import { MongoConversationStore } from './mongo-conversation-store.js';
import { MongoSessionManager } from './mongo-session-manager.js';
import { MongoTurnStore } from './mongo-turn-store.js';
import type { StoreSet } from './store-set.js';

/** The same four stores as StoreSet; kept as a name for callers of this module. */
export type Stores = StoreSet;

export interface MongoStores extends StoreSet {
  db: Db;
  client: MongoClient;
}

/** Connects, ensures the indexes, and returns the stores; close() closes the client once. */
export async function openMongoStores(url: string, dbName: string): Promise<MongoStores> {
  const client = new MongoClient(url);
  try {
    await client.connect();
    const db = client.db(dbName);
    await ensureIndexes(db);
    const conversations = new MongoConversationStore(db);
    let closing: Promise<void> | undefined;
    return {
      turns: new MongoTurnStore(db),
      audio: new MongoAudioStore(db),
      conversations,
      sessions: new MongoSessionManager(db, conversations),
      batches: new MongoBatchRecordStore(db),
      db,
      client,
      close: () => (closing ??= client.close()),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** The same stores in memory (tests, benchmarks, offline runs): nothing survives the process. */
export function createMemoryStores(): StoreSet {
  const conversations = new MemoryConversationStore();
  return {
    turns: new MemoryTurnStore(),
    audio: new MemoryAudioStore(),
    conversations,
    sessions: new MemorySessionManager(conversations),
    batches: new MemoryBatchRecordStore(),
    close: () => Promise.resolve(),
  };
}
