// The shard key for each collection on a sharded MongoDB cluster, and why. Every key is a plain
// ascending one backed by an index ensureIndexes makes (FerretDB v1 has no hashed indexes); the
// ids it ranges over are random UUIDs, so chunks spread without a hot shard. The README's
// "MongoDB at scale" table says the same; tests/store/shard-keys.test.ts holds them to it.
import { AUDIO_BUCKET, AUDIO_UPLOADS_COLLECTION } from './mongo-audio-store.js';
import { API_KEYS_COLLECTION } from './mongo-api-key-store.js';
import { BATCH_RECORDS_COLLECTION } from './mongo-batch-record-store.js';
import { MESSAGES_COLLECTION } from './mongo-conversation-store.js';
import { INTERACTIONS_COLLECTION, SESSIONS_COLLECTION } from './mongo-session-manager.js';
import { TURN_TRANSITIONS_COLLECTION, TURNS_COLLECTION } from './mongo-turn-store.js';

export interface ShardKeyPlan {
  collection: string;
  key: Record<string, 1>;
  /** The queries the key sends to one shard, and those it sends to all. */
  why: string;
}

export const SHARD_KEYS: readonly ShardKeyPlan[] = [
  { collection: SESSIONS_COLLECTION, key: { _id: 1 }, why: 'a session is read and updated by its id; the inactivity sweep (lastActivityAt) goes to every shard' },
  { collection: MESSAGES_COLLECTION, key: { sessionId: 1 }, why: 'history and statistics filter on one sessionId: one shard, served by session_recent' },
  { collection: INTERACTIONS_COLLECTION, key: { sessionId: 1 }, why: 'counted and erased per session: one shard' },
  { collection: TURNS_COLLECTION, key: { _id: 1 }, why: 'a turn is read by its id at every stage (the hot path); listing a session’s turns goes to every shard, bounded by its limit' },
  { collection: TURN_TRANSITIONS_COLLECTION, key: { _id: 1 }, why: 'each transition is read and inserted by its id (`<turnId>.<kind>`): one shard per read' },
  { collection: `${AUDIO_BUCKET}.chunks`, key: { files_id: 1, n: 1 }, why: 'GridFS chunks: MongoDB’s documented key for them; a file is read in order from its shards' },
  { collection: `${AUDIO_BUCKET}.files`, key: { _id: 1 }, why: 'one document per audio, read by its id' },
  { collection: AUDIO_UPLOADS_COLLECTION, key: { _id: 1 }, why: 'upload claims, by audio id (small: may stay unsharded)' },
  { collection: BATCH_RECORDS_COLLECTION, key: { _id: 1 }, why: 'one record per batch key, by its id' },
  { collection: API_KEYS_COLLECTION, key: { _id: 1 }, why: 'a few documents read by key id (may stay unsharded)' },
];
