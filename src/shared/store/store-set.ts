// The four stores every process opens together (MongoDB in production, memory in benchmarks).
import type { AudioStore } from '../ports/audio-store.js';
import type { BatchRecordStore } from '../ports/batch-record-store.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { SessionManager } from '../ports/session-manager.js';
import type { TurnStore } from '../ports/turn-store.js';

export interface StoreSet {
  turns: TurnStore;
  audio: AudioStore;
  conversations: ConversationStore;
  sessions: SessionManager;
  /** Batch transcription's records (openMongoStores and createMemoryStores always give one). */
  batches?: BatchRecordStore;
  close(): Promise<void>;
}
