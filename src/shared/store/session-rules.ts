// What both session managers check, and how a turn's interaction becomes two messages.
import { z } from 'zod';
import { messageId, newSessionId } from '../contracts/ids.js';
import type { NewMessage } from '../ports/conversation-store.js';
import type { Interaction } from '../ports/session-manager.js';

export { newSessionId };

export const DEFAULT_CONTEXT_MESSAGES = 10;

const interactionSchema = z.object({
  sessionId: z.string().min(1),
  userMessage: z.string(),
  assistantResponse: z.string(),
  audioDurationMs: z.number().nonnegative().optional(),
  voiceUsed: z.string().min(1).optional(),
  turnId: z.string().min(1).optional(),
});

export function parseInteraction(interaction: Interaction): Interaction {
  return interactionSchema.parse(interaction);
}

export function parseUserId(userId: string): string {
  return z.string().min(1, 'a session needs a userId').parse(userId);
}

/** The user then the assistant message; with a turnId their ids are deterministic. */
export function interactionMessages(interaction: Interaction): [NewMessage, NewMessage] {
  const { sessionId, turnId } = interaction;
  const assistantMetadata: Record<string, unknown> = {};
  if (interaction.audioDurationMs !== undefined) assistantMetadata.audioDurationMs = interaction.audioDurationMs;
  if (interaction.voiceUsed !== undefined) assistantMetadata.voiceUsed = interaction.voiceUsed;
  const user: NewMessage = { sessionId, role: 'user', content: interaction.userMessage, metadata: {} };
  const assistant: NewMessage = { sessionId, role: 'assistant', content: interaction.assistantResponse, metadata: assistantMetadata };
  if (turnId !== undefined) {
    user.turnId = turnId;
    user.messageId = messageId(turnId, 'user');
    assistant.turnId = turnId;
    assistant.messageId = messageId(turnId, 'assistant');
  }
  return [user, assistant];
}
