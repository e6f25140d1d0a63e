// Seed: ISessionManager (create_session, add_interaction, get_session_context).
import type { ChatMessage } from './llm-provider.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface Session {
  sessionId: string;
  userId: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  lastActivityAt: Date;
  interactionCount: number;
}

export interface Interaction {
  sessionId: string;
  userMessage: string;
  assistantResponse: string;
  audioDurationMs?: number;
  voiceUsed?: string;
  /** When given, the interaction is recorded once per turn however often it is added. */
  turnId?: string;
  /**
   * The reply was cut off (barge-in): `assistantResponse` holds only what was heard, and the
   * message is stored with `interrupted: true`. An empty `assistantResponse` stores no
   * assistant message (nothing was heard, or the turn failed: the user's message alone).
   */
  interrupted?: boolean;
}

export interface SessionManager {
  createSession(userId: string, metadata?: Record<string, unknown>): Promise<Session>;
  getSession(sessionId: string): Promise<Session | null>;
  /** False when the session does not exist. */
  addInteraction(interaction: Interaction): Promise<boolean>;
  /** The last `maxMessages` messages as LLM context, oldest first. */
  context(sessionId: string, options?: { maxMessages?: number }): Promise<ChatMessage[]>;
  /** Ids of sessions with no activity since `before` (oldest first, at most `limit`): what retention removes. */
  inactiveSince(before: Date, limit: number): Promise<string[]>;
  /** Removes the session, its interactions and its messages; false when there was none. Idempotent. */
  deleteSession(sessionId: string): Promise<boolean>;
}

export const SESSION_MANAGER_PORT: PortSpec = { name: 'SessionManager', methods: ['createSession', 'getSession', 'addInteraction', 'context', 'inactiveSince', 'deleteSession'] };

/** The seed's isinstance check: every method of SessionManager is there. */
export function isSessionManager(value: unknown): value is SessionManager {
  return conformsTo(value, SESSION_MANAGER_PORT);
}
