// Seed: IConversationStore (save_message, get_conversation_history(limit), get_statistics).
import { conformsTo, type PortSpec } from './port-spec.js';

export type MessageRole = 'user' | 'assistant';

export interface NewMessage {
  sessionId: string;
  role: MessageRole;
  content: string;
  metadata?: Record<string, unknown>;
  /** Deterministic id: saving the same id twice stores one message. Generated when absent. */
  messageId?: string;
  turnId?: string;
}

export interface StoredMessage {
  messageId: string;
  sessionId: string;
  role: MessageRole;
  content: string;
  metadata: Record<string, unknown>;
  turnId?: string;
  createdAt: Date;
}

export interface ConversationStatistics {
  sessionId: string;
  messageCount: number;
  userMessageCount: number;
  assistantMessageCount: number;
  firstMessageAt?: Date;
  lastMessageAt?: Date;
}

export interface ConversationStore {
  /** Idempotent by messageId: returns the stored message (the first one saved under that id). */
  saveMessage(message: NewMessage): Promise<StoredMessage>;
  /** The last `limit` messages, oldest first. */
  history(sessionId: string, options?: { limit?: number }): Promise<StoredMessage[]>;
  statistics(sessionId: string): Promise<ConversationStatistics>;
  /** Removes every message of the session (a person's data deleted); how many there were. Idempotent. */
  deleteSession(sessionId: string): Promise<number>;
  /**
   * Cuts a stored reply to what the user heard: its content becomes `content` and `metadata` is
   * merged into its own; an empty `content` removes the message (nothing was heard). False when
   * there is no such message.
   */
  cutMessage(messageId: string, content: string, metadata: Record<string, unknown>): Promise<boolean>;
}

export const CONVERSATION_STORE_PORT: PortSpec = { name: 'ConversationStore', methods: ['saveMessage', 'history', 'statistics', 'deleteSession', 'cutMessage'] };

/** The seed's isinstance check: every method of ConversationStore is there. */
export function isConversationStore(value: unknown): value is ConversationStore {
  return conformsTo(value, CONVERSATION_STORE_PORT);
}
