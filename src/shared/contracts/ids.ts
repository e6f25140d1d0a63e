import { randomUUID } from 'node:crypto';
import { InputError } from '../errors.js';
import { sessionIdSchema, turnIdSchema } from './turn.js';

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

/**
 * A turn id from a caller, checked before it reaches a MongoDB filter or a Redis key: anything
 * else (an object such as `{ $gt: "" }`, `:`, `/`, NUL, look-alike letters) is InputError
 * `invalid_turn_id` naming the field and what is wrong.
 */
export function checkTurnId(value: unknown, field = 'turnId'): string {
  if (turnIdSchema.safeParse(value).success) return value as string;
  throw new InputError('invalid_turn_id', `${field} must look like turn_<uuid> (lowercase hex and dashes): ${whatIsWrong(value, 'turn_')}`);
}

/** As checkTurnId, for session ids: InputError `invalid_session_id`. */
export function checkSessionId(value: unknown, field = 'sessionId'): string {
  if (sessionIdSchema.safeParse(value).success) return value as string;
  throw new InputError('invalid_session_id', `${field} must look like sess_<uuid> (lowercase hex and dashes): ${whatIsWrong(value, 'sess_')}`);
}

/** What is wrong with an id, without echoing it (it may be huge, or hold control characters). */
function whatIsWrong(value: unknown, prefix: string): string {
  if (typeof value !== 'string') return `got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`}`;
  if (!value.startsWith(prefix)) return `it does not start with ${prefix}`;
  const odd = [...value.slice(prefix.length)].find((c) => !/[0-9a-f-]/.test(c));
  if (odd !== undefined) return `it contains ${describeChar(odd)}`;
  return `it has ${value.length - prefix.length} characters after ${prefix}, not 36`;
}

function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code >= 0x21 && code <= 0x7e ? `"${c}"` : hex;
}
