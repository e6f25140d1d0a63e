// Conversation messages in memory, with the MongoDB store's semantics: O(1) saves and
// statistics, history in O(limit). Every message handed out is a copy (its metadata frozen).
import type { ConversationStatistics, ConversationStore, NewMessage, StoredMessage } from '../ports/conversation-store.js';
import { nextMessageStamp } from './message-clock.js';
import { newMessageId, parseNewMessage } from './message-rules.js';
import { DEFAULT_HISTORY_LIMIT, normalizeLimit } from './stage-record.js';
import { settle } from './settle.js';

interface SessionLog {
  /** In save order, which is (createdAt, seq) order. */
  messages: StoredMessage[];
  userCount: number;
  assistantCount: number;
}

/** Metadata is frozen once saved and shared by the copies handed out (cheaper than cloning it per read). */
function copy(message: StoredMessage): StoredMessage {
  return { ...message, createdAt: new Date(message.createdAt) };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The ConversationStore in memory (tests, benchmarks): passes the same contract suite as MongoConversationStore. */
export class MemoryConversationStore implements ConversationStore {
  private readonly byId = new Map<string, StoredMessage>();
  private readonly bySession = new Map<string, SessionLog>();

  deleteSession(sessionId: string): Promise<number> {
    const log = this.bySession.get(sessionId);
    if (!log) return Promise.resolve(0);
    for (const message of log.messages) this.byId.delete(message.messageId);
    this.bySession.delete(sessionId);
    return Promise.resolve(log.messages.length);
  }

  saveMessage(message: NewMessage): Promise<StoredMessage> {
    return settle(() => {
      const input = parseNewMessage(message);
      const messageId = input.messageId ?? newMessageId();
      const existing = this.byId.get(messageId);
      if (existing !== undefined) return copy(existing);
      const stored: StoredMessage = {
        messageId,
        sessionId: input.sessionId,
        role: input.role,
        content: input.content,
        metadata: deepFreeze(structuredClone(input.metadata ?? {})),
        createdAt: nextMessageStamp().createdAt,
      };
      if (input.turnId !== undefined) stored.turnId = input.turnId;
      this.byId.set(messageId, stored);
      let log = this.bySession.get(stored.sessionId);
      if (log === undefined) {
        log = { messages: [], userCount: 0, assistantCount: 0 };
        this.bySession.set(stored.sessionId, log);
      }
      log.messages.push(stored);
      if (stored.role === 'user') log.userCount += 1;
      else log.assistantCount += 1;
      return copy(stored);
    });
  }

  cutMessage(messageId: string, content: string, metadata: Record<string, unknown>): Promise<boolean> {
    const stored = this.byId.get(messageId);
    const log = stored ? this.bySession.get(stored.sessionId) : undefined;
    if (!stored || !log) return Promise.resolve(false);
    const index = log.messages.indexOf(stored);
    if (content === '') {
      log.messages.splice(index, 1);
      this.byId.delete(messageId);
      if (stored.role === 'user') log.userCount -= 1;
      else log.assistantCount -= 1;
      return Promise.resolve(true);
    }
    const cut: StoredMessage = { ...stored, content, metadata: deepFreeze(structuredClone({ ...stored.metadata, ...metadata })) };
    log.messages[index] = cut;
    this.byId.set(messageId, cut);
    return Promise.resolve(true);
  }

  history(sessionId: string, options: { limit?: number } = {}): Promise<StoredMessage[]> {
    return settle(() => {
      const limit = normalizeLimit(options.limit, DEFAULT_HISTORY_LIMIT);
      const messages = this.bySession.get(sessionId)?.messages ?? [];
      return limit === 0 ? [] : messages.slice(-limit).map(copy);
    });
  }

  statistics(sessionId: string): Promise<ConversationStatistics> {
    const log = this.bySession.get(sessionId);
    const stats: ConversationStatistics = { sessionId, messageCount: 0, userMessageCount: 0, assistantMessageCount: 0 };
    if (log === undefined || log.messages.length === 0) return Promise.resolve(stats);
    stats.userMessageCount = log.userCount;
    stats.assistantMessageCount = log.assistantCount;
    stats.messageCount = log.userCount + log.assistantCount;
    stats.firstMessageAt = new Date(log.messages[0]!.createdAt);
    stats.lastMessageAt = new Date(log.messages[log.messages.length - 1]!.createdAt);
    return Promise.resolve(stats);
  }
}
