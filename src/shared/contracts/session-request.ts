// What a caller hands createSession: a userId and metadata, both stored in MongoDB as given.
// Metadata is JSON the caller owns, but its keys become MongoDB field names: a key starting with
// `$` is an operator, one with `.` a path, and NUL ends a BSON name, so each is refused (FerretDB
// and MongoDB would otherwise answer with an internal error, or store what no query can reach).
import { z } from 'zod';
import { InputError } from '../errors.js';

export const MAX_USER_ID_CHARS = 200;
/** Metadata as JSON, at most 16 KB; nested at most 8 levels; keys at most 100 characters. */
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_METADATA_DEPTH = 8;
export const MAX_METADATA_KEY_CHARS = 100;

// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

export const userIdSchema = z
  .string()
  .max(MAX_USER_ID_CHARS, `userId is longer than ${MAX_USER_ID_CHARS} characters`)
  .refine((v) => v.trim() !== '', 'userId must be a non-empty string')
  .refine((v) => !CONTROL.test(v), 'userId must not contain control characters (NUL, newline …)');

interface Problem {
  path: (string | number)[];
  message: string;
}

/** The first thing wrong with metadata, or undefined when it is plain JSON that MongoDB stores as it is. */
export function metadataProblem(metadata: unknown): Problem | undefined {
  if (!isPlainObject(metadata)) return { path: [], message: 'metadata must be a plain object' };
  const problem = valueProblem(metadata, [], 0);
  if (problem) return problem;
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) return { path: [], message: `metadata is ${bytes} bytes as JSON; the limit is ${MAX_METADATA_BYTES}` };
  return undefined;
}

function valueProblem(value: unknown, path: (string | number)[], depth: number): Problem | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: 'numbers must be finite' };
  if (depth >= MAX_METADATA_DEPTH) return { path, message: `metadata nests more than ${MAX_METADATA_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const problem = valueProblem(value[i], [...path, i], depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return { path, message: `only JSON values are stored (strings, numbers, booleans, null, arrays, objects), not ${kindOf(value)}` };
  for (const [key, inner] of Object.entries(value)) {
    const keyProblem = metadataKeyProblem(key);
    if (keyProblem) return { path: [...path, key], message: keyProblem };
    const problem = valueProblem(inner, [...path, key], depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

function metadataKeyProblem(key: string): string | undefined {
  if (key === '') return 'a metadata key is empty';
  if (key.length > MAX_METADATA_KEY_CHARS) return `a metadata key is longer than ${MAX_METADATA_KEY_CHARS} characters`;
  if (key.startsWith('$')) return 'a metadata key must not start with "$" (MongoDB reads it as an operator)';
  if (key.includes('.')) return 'a metadata key must not contain "." (MongoDB reads it as a path)';
  if (CONTROL.test(key)) return 'a metadata key must not contain control characters (NUL, newline …)';
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return `"${key}" is not allowed as a metadata key`;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function kindOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'non-plain object'}`;
  return `a ${typeof value}`;
}

/** Session metadata for zod schemas (the HTTP body): each problem an issue at its path. */
export const sessionMetadataSchema = z.record(z.string(), z.unknown()).superRefine((metadata, ctx) => {
  const problem = metadataProblem(metadata);
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
});

/**
 * createSession's arguments checked: InputError `invalid_user_id` or `invalid_metadata`, naming
 * the field (`metadata.a.$gt: …`). Returns them as given.
 */
export function checkSessionRequest(userId: unknown, metadata: unknown = {}): { userId: string; metadata: Record<string, unknown> } {
  const user = userIdSchema.safeParse(userId);
  if (!user.success) {
    const message = typeof userId === 'string' ? (user.error.issues[0]?.message ?? 'userId is invalid') : 'userId must be a non-empty string';
    throw new InputError('invalid_user_id', message);
  }
  const problem = metadataProblem(metadata);
  if (problem) {
    throw new InputError('invalid_metadata', `${fieldPath(['metadata', ...problem.path])}: ${problem.message}`);
  }
  return { userId: user.data, metadata: metadata as Record<string, unknown> };
}

/** `metadata.a[0]["$gt"]`: identifiers as they are, anything else quoted (control characters escaped). */
function fieldPath(path: (string | number)[]): string {
  return path
    .map((part, i) => {
      if (typeof part === 'number') return `[${part}]`;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) return i === 0 ? part : `.${part}`;
      return `[${JSON.stringify(part.length > 40 ? `${part.slice(0, 40)}…` : part)}]`;
    })
    .join('');
}
