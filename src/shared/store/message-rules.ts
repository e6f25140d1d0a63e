// What both conversation stores check before saving a message, and how they name new ones.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { NewMessage } from '../ports/conversation-store.js';

export function newMessageId(): string {
  return `msg_${randomUUID()}`;
}

export const messageRoleSchema = z.enum(['user', 'assistant']);

export const newMessageSchema = z.object({
  sessionId: z.string().min(1),
  role: messageRoleSchema,
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  messageId: z.string().min(1).optional(),
  turnId: z.string().min(1).optional(),
});

/** Throws a ZodError naming the bad field. */
export function parseNewMessage(message: NewMessage): NewMessage {
  return newMessageSchema.parse(message);
}
