// Every index the MongoDB stores rely on. createIndex is a no-op when the index exists, so this
// runs at every start. Only plain and unique indexes: FerretDB has no TTL, partial or hashed ones.
// Each supports its collection's shard key (shard-keys.ts) on a sharded cluster.
import type { Db } from 'mongodb';
import { AUDIO_BUCKET } from './mongo-audio-store.js';
import { MESSAGES_COLLECTION } from './mongo-conversation-store.js';
import { INTERACTIONS_COLLECTION, SESSIONS_COLLECTION } from './mongo-session-manager.js';
import { TURN_TRANSITIONS_COLLECTION, TURNS_COLLECTION } from './mongo-turn-store.js';

export async function ensureIndexes(db: Db): Promise<void> {
  await Promise.all([
    db.collection(TURNS_COLLECTION).createIndex({ sessionId: 1, createdAt: -1 }, { name: 'session_recent' }),
    db.collection(TURN_TRANSITIONS_COLLECTION).createIndex({ turnId: 1 }, { name: 'turn' }),
    db.collection(MESSAGES_COLLECTION).createIndex({ sessionId: 1, createdAt: -1, seq: -1 }, { name: 'session_recent' }),
    db.collection(INTERACTIONS_COLLECTION).createIndex({ sessionId: 1 }, { name: 'session' }),
    // The inactivity sweep (inactiveSince) reads sessions by last activity, oldest first.
    db.collection(SESSIONS_COLLECTION).createIndex({ lastActivityAt: 1 }, { name: 'inactive' }),
    // The indexes GridFS would create on its first upload, made up front.
    db.collection(`${AUDIO_BUCKET}.files`).createIndex({ filename: 1, uploadDate: 1 }),
    db.collection(`${AUDIO_BUCKET}.chunks`).createIndex({ files_id: 1, n: 1 }, { unique: true }),
  ]);
}
