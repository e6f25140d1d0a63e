// The shape of an API key and how its secret is hashed. Keys are `voxq_<16 hex id>_<43 chars of
// base64url secret>` (256 random bits), so a plain SHA-256 of the secret is a safe stored form
// (no salt or slow hash needed for high-entropy secrets) and the id finds the record in one read.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';
import { apiScopeSchema, API_SCOPES, type ApiScope } from '../ports/api-key-store.js';

const KEY_PATTERN = /^voxq_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewKeySecret {
  keyId: string;
  key: string;
  secretHash: string;
}

export function newKeySecret(): NewKeySecret {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, key: `voxq_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key; undefined otherwise. */
export function parseKey(key: string): { keyId: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match?.[1] || !match[2]) return undefined;
  return { keyId: match[1], secret: match[2] };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Checks scopes given by a person (CLI) or a caller; names the bad ones. */
export function validScopes(scopes: readonly string[]): ApiScope[] {
  const bad = scopes.filter((s) => !apiScopeSchema.safeParse(s).success);
  if (scopes.length === 0 || bad.length > 0) {
    throw new InputError('invalid_scopes', `unknown scope(s) ${bad.join(', ') || '(none given)'}: choose from ${API_SCOPES.join(', ')}`);
  }
  return [...new Set(scopes)] as ApiScope[];
}

/** Accepts a key id or a whole key (people paste either to revoke). */
export function keyIdOf(idOrKey: string): string {
  return parseKey(idOrKey)?.keyId ?? idOrKey;
}
