import { randomUUID } from 'node:crypto';

export function newTurnId(): string {
  return `turn_${randomUUID()}`;
}

export function newSessionId(): string {
  return `sess_${randomUUID()}`;
}

/** Message ids derive from the turn, so saving a turn's messages twice stores them once. */
export function messageId(turnId: string, role: 'user' | 'assistant'): string {
  return `${turnId}.${role}`;
}
