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
  interrupted: z.boolean().optional(),
});

export function parseInteraction(interaction: Interaction): Interaction {
  return interactionSchema.parse(interaction);
}

export function parseUserId(userId: string): string {
  return z.string().min(1, 'a session needs a userId').parse(userId);
}

/** What the LLM reads after a reply that was cut off, so it neither repeats it nor assumes the rest was heard. */
export const INTERRUPTED_MARK = '[interrompido: o usuário parou de ouvir aqui; o resto da resposta não foi ouvido]';

/** A stored message as LLM context: an interrupted reply carries the mark. */
export function contextContent(message: { content: string; metadata?: Record<string, unknown> }): string {
  return message.metadata?.interrupted === true ? `${message.content} ${INTERRUPTED_MARK}` : message.content;
}

/**
 * The user then the assistant message; with a turnId their ids are deterministic. No assistant
 * message when its response is empty (a reply of which nothing was heard, or a failed turn).
 */
export function interactionMessages(interaction: Interaction): NewMessage[] {
  const { sessionId, turnId } = interaction;
  const assistantMetadata: Record<string, unknown> = {};
  if (interaction.audioDurationMs !== undefined) assistantMetadata.audioDurationMs = interaction.audioDurationMs;
  if (interaction.voiceUsed !== undefined) assistantMetadata.voiceUsed = interaction.voiceUsed;
  if (interaction.interrupted === true) assistantMetadata.interrupted = true;
  const user: NewMessage = { sessionId, role: 'user', content: interaction.userMessage, metadata: {} };
  const assistant: NewMessage = { sessionId, role: 'assistant', content: interaction.assistantResponse, metadata: assistantMetadata };
  if (turnId !== undefined) {
    user.turnId = turnId;
    user.messageId = messageId(turnId, 'user');
    assistant.turnId = turnId;
    assistant.messageId = messageId(turnId, 'assistant');
  }
  return interaction.assistantResponse === '' ? [user] : [user, assistant];
}
