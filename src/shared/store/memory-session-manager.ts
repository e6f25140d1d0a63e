// Sessions in memory, with the MongoDB manager's semantics: an interaction with a turnId counts
// once however often it is added; messages go through the given ConversationStore.
import type { ConversationStore } from '../ports/conversation-store.js';
import type { ChatMessage } from '../ports/llm-provider.js';
import type { Interaction, Session, SessionManager } from '../ports/session-manager.js';
import { DEFAULT_CONTEXT_MESSAGES, contextContent, interactionMessages, newSessionId, parseInteraction, parseUserId } from './session-rules.js';
import { settle } from './settle.js';

function copy(session: Session): Session {
  return {
    ...session,
    metadata: structuredClone(session.metadata),
    createdAt: new Date(session.createdAt),
    lastActivityAt: new Date(session.lastActivityAt),
  };
}

/** The SessionManager in memory (tests, benchmarks): `new MemorySessionManager(conversations)`. */
export class MemorySessionManager implements SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly countedTurns = new Set<string>();

  constructor(private readonly conversations: ConversationStore) {}

  createSession(userId: string, metadata: Record<string, unknown> = {}): Promise<Session> {
    return settle(() => {
      const now = new Date();
      const session: Session = {
        sessionId: newSessionId(),
        userId: parseUserId(userId),
        metadata: structuredClone(metadata),
        createdAt: now,
        lastActivityAt: now,
        interactionCount: 0,
      };
      this.sessions.set(session.sessionId, session);
      return copy(session);
    });
  }

  getSession(sessionId: string): Promise<Session | null> {
    const session = this.sessions.get(sessionId);
    return Promise.resolve(session === undefined ? null : copy(session));
  }

  async addInteraction(interaction: Interaction): Promise<boolean> {
    const input = parseInteraction(interaction);
    if (!this.sessions.has(input.sessionId)) return false;
    const now = new Date();
    for (const message of interactionMessages(input)) await this.conversations.saveMessage(message);
    const session = this.sessions.get(input.sessionId);
    if (session === undefined) return false;
    if (input.turnId === undefined || !this.countedTurns.has(input.turnId)) {
      if (input.turnId !== undefined) this.countedTurns.add(input.turnId);
      session.interactionCount += 1;
    }
    if (now > session.lastActivityAt) session.lastActivityAt = now;
    return true;
  }

  inactiveSince(before: Date, limit: number): Promise<string[]> {
    const old = [...this.sessions.values()].filter((s) => s.lastActivityAt < before);
    old.sort((a, b) => a.lastActivityAt.getTime() - b.lastActivityAt.getTime());
    return Promise.resolve(old.slice(0, limit).map((s) => s.sessionId));
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    await this.conversations.deleteSession(sessionId);
    return this.sessions.delete(sessionId);
  }

  async context(sessionId: string, options: { maxMessages?: number } = {}): Promise<ChatMessage[]> {
    const messages = await this.conversations.history(sessionId, { limit: options.maxMessages ?? DEFAULT_CONTEXT_MESSAGES });
    return messages.map((message) => ({ role: message.role, content: contextContent(message) }));
  }
}
