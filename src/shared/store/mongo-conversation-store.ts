// Conversation messages in MongoDB (`messages`, `_id` = messageId). Order is (createdAt, seq):
// `seq` breaks ties between messages saved in the same millisecond, so a turn's user message
// always precedes its assistant message.
import type { Collection, Db } from 'mongodb';
import { z } from 'zod';
import type { ConversationStatistics, ConversationStore, NewMessage, StoredMessage } from '../ports/conversation-store.js';
import { nextMessageStamp } from './message-clock.js';
import { messageRoleSchema, newMessageId, parseNewMessage } from './message-rules.js';
import { isDuplicateKeyError, withoutUndefined } from './mongo-support.js';
import { DEFAULT_HISTORY_LIMIT, normalizeLimit } from './stage-record.js';

export const MESSAGES_COLLECTION = 'messages';

const messageDocumentSchema = z.object({
  _id: z.string(),
  sessionId: z.string(),
  role: messageRoleSchema,
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  turnId: z.string().optional(),
  createdAt: z.date(),
  seq: z.number(),
});
export type MessageDocument = z.infer<typeof messageDocumentSchema>;

function toMessage(doc: unknown): StoredMessage {
  const parsed = messageDocumentSchema.parse(doc);
  const message: StoredMessage = {
    messageId: parsed._id,
    sessionId: parsed.sessionId,
    role: parsed.role,
    content: parsed.content,
    metadata: parsed.metadata,
    createdAt: parsed.createdAt,
  };
  if (parsed.turnId !== undefined) message.turnId = parsed.turnId;
  return message;
}

/** The ConversationStore on MongoDB (or FerretDB): `new MongoConversationStore(db)`. */
export class MongoConversationStore implements ConversationStore {
  private readonly messages: Collection<MessageDocument>;

  constructor(db: Db) {
    this.messages = db.collection<MessageDocument>(MESSAGES_COLLECTION);
  }

  async saveMessage(message: NewMessage): Promise<StoredMessage> {
    const input = parseNewMessage(message);
    const { createdAt, seq } = nextMessageStamp();
    const doc: MessageDocument = withoutUndefined({
      _id: input.messageId ?? newMessageId(),
      sessionId: input.sessionId,
      role: input.role,
      content: input.content,
      metadata: input.metadata ?? {},
      turnId: input.turnId,
      createdAt,
      seq,
    });
    try {
      await this.messages.insertOne(doc);
      return toMessage(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const stored = await this.messages.findOne({ _id: doc._id });
      if (stored === null) throw error;
      return toMessage(stored);
    }
  }

  async history(sessionId: string, options: { limit?: number } = {}): Promise<StoredMessage[]> {
    const limit = normalizeLimit(options.limit, DEFAULT_HISTORY_LIMIT);
    if (limit === 0) return [];
    const newestFirst = await this.messages.find({ sessionId }).sort({ createdAt: -1, seq: -1 }).limit(limit).toArray();
    return newestFirst.reverse().map(toMessage);
  }

  async deleteSession(sessionId: string): Promise<number> {
    return (await this.messages.deleteMany({ sessionId })).deletedCount;
  }

  async cutMessage(messageId: string, content: string, metadata: Record<string, unknown>): Promise<boolean> {
    if (content === '') return (await this.messages.deleteOne({ _id: messageId })).deletedCount === 1;
    // By `_id` alone (FerretDB v1 scans the collection for any other filter); metadata merged key by key.
    const set: Record<string, unknown> = { content };
    for (const [key, value] of Object.entries(metadata)) set[`metadata.${key}`] = value;
    return (await this.messages.updateOne({ _id: messageId }, { $set: set })).matchedCount === 1;
  }

  async statistics(sessionId: string): Promise<ConversationStatistics> {
    // $group with $sum only: FerretDB v1 implements no other accumulator ($min, $max, $avg).
    const [groups, first, last] = await Promise.all([
      this.messages
        .aggregate<{ _id: string; count: number }>([{ $match: { sessionId } }, { $group: { _id: '$role', count: { $sum: 1 } } }])
        .toArray(),
      this.messages.findOne({ sessionId }, { sort: { createdAt: 1, seq: 1 }, projection: { createdAt: 1 } }),
      this.messages.findOne({ sessionId }, { sort: { createdAt: -1, seq: -1 }, projection: { createdAt: 1 } }),
    ]);
    const stats: ConversationStatistics = { sessionId, messageCount: 0, userMessageCount: 0, assistantMessageCount: 0 };
    for (const group of groups) {
      if (group._id === 'user') stats.userMessageCount = group.count;
      else if (group._id === 'assistant') stats.assistantMessageCount = group.count;
      stats.messageCount += group.count;
    }
    if (first !== null) stats.firstMessageAt = first.createdAt;
    if (last !== null) stats.lastMessageAt = last.createdAt;
    return stats;
  }
}
