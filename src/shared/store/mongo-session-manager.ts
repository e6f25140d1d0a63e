// Sessions in MongoDB (`sessions`, `_id` = sessionId) and their interactions (`interactions`,
// `_id` = turnId when given). A session's interactionCount is the number of its interaction
// documents, so a turn added twice, or retried after a crash at any point, counts once.
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { ChatMessage } from '../ports/llm-provider.js';
import type { Interaction, Session, SessionManager } from '../ports/session-manager.js';
import { insertOnce, isDuplicateKeyError, withoutUndefined } from './mongo-support.js';
import { DEFAULT_CONTEXT_MESSAGES, contextContent, interactionMessages, newSessionId, parseInteraction, parseUserId } from './session-rules.js';

export const SESSIONS_COLLECTION = 'sessions';
export const INTERACTIONS_COLLECTION = 'interactions';

export interface SessionDocument {
  _id: string;
  userId: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  lastActivityAt: Date;
}

export interface InteractionDocument {
  _id: string;
  sessionId: string;
  userMessage: string;
  assistantResponse: string;
  audioDurationMs?: number;
  voiceUsed?: string;
  turnId?: string;
  createdAt: Date;
}

/** The SessionManager on MongoDB (or FerretDB): `new MongoSessionManager(db, conversations)`; a session's messages go to its ConversationStore. */
export class MongoSessionManager implements SessionManager {
  private readonly sessions: Collection<SessionDocument>;
  private readonly interactions: Collection<InteractionDocument>;

  constructor(
    db: Db,
    private readonly conversations: ConversationStore,
  ) {
    this.sessions = db.collection<SessionDocument>(SESSIONS_COLLECTION);
    this.interactions = db.collection<InteractionDocument>(INTERACTIONS_COLLECTION);
  }

  async createSession(userId: string, metadata: Record<string, unknown> = {}): Promise<Session> {
    const now = new Date();
    const doc: SessionDocument = withoutUndefined({
      _id: newSessionId(),
      userId: parseUserId(userId),
      metadata: structuredClone(metadata),
      createdAt: now,
      lastActivityAt: now,
    });
    // Insert-once by its (fresh) id: a retried insert that finds its own document is not an error.
    if (!(await insertOnce(this.sessions, doc))) throw new Error(`session id ${doc._id} is taken`);
    return { sessionId: doc._id, userId: doc.userId, metadata: doc.metadata, createdAt: now, lastActivityAt: now, interactionCount: 0 };
  }

  async getSession(sessionId: string): Promise<Session | null> {
    const [doc, interactionCount] = await Promise.all([
      this.sessions.findOne({ _id: sessionId }),
      this.interactions.countDocuments({ sessionId }),
    ]);
    if (doc === null) return null;
    return {
      sessionId: doc._id,
      userId: doc.userId,
      metadata: doc.metadata,
      createdAt: doc.createdAt,
      lastActivityAt: doc.lastActivityAt,
      interactionCount,
    };
  }

  async addInteraction(interaction: Interaction): Promise<boolean> {
    const input = parseInteraction(interaction);
    const exists = await this.sessions.findOne({ _id: input.sessionId }, { projection: { _id: 1 } });
    if (exists === null) return false;
    const now = new Date();
    // Messages first (idempotent by id), then the interaction: a crash in between is repaired
    // by the retry, which saves nothing twice.
    for (const message of interactionMessages(input)) await this.conversations.saveMessage(message);
    try {
      await this.interactions.insertOne(
        withoutUndefined({ ...input, _id: input.turnId ?? `int_${randomUUID()}`, createdAt: now }),
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    await this.sessions.updateOne({ _id: input.sessionId }, { $max: { lastActivityAt: now } });
    return true;
  }

  async inactiveSince(before: Date, limit: number): Promise<string[]> {
    const docs = await this.sessions.find({ lastActivityAt: { $lt: before } }, { projection: { _id: 1 } }).sort({ lastActivityAt: 1 }).limit(limit).toArray();
    return docs.map((doc) => doc._id);
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    await this.conversations.deleteSession(sessionId);
    await this.interactions.deleteMany({ sessionId });
    return (await this.sessions.deleteOne({ _id: sessionId })).deletedCount > 0;
  }

  async context(sessionId: string, options: { maxMessages?: number } = {}): Promise<ChatMessage[]> {
    const messages = await this.conversations.history(sessionId, { limit: options.maxMessages ?? DEFAULT_CONTEXT_MESSAGES });
    return messages.map((message) => ({ role: message.role, content: contextContent(message) }));
  }
}
