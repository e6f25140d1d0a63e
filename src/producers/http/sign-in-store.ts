// Browser sign-ins, server side, in Redis (shared by every API instance). Signing in with a key
// makes a random 256-bit token for the `voxq_session` cookie and a CSRF token; Redis keeps a hash
// under the token's SHA-256 (never the token, never the key): the key's id, the scopes it had, the
// CSRF token's hash and when it expires (also the hash's TTL). The cookie is only as good as its
// key: every request re-reads the key (see auth.ts), so revoking the key ends its sign-ins.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../../shared/redis.js';
import { apiScopeSchema, type ApiKeyRecord, type ApiScope } from '../../shared/ports/api-key-store.js';

/** 32 random bytes, base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SignIn {
  keyId: string;
  /** The key's scopes when it signed in; a request gets those the key still has. */
  scopes: ApiScope[];
  expiresAt: Date;
  /** True when `presented` is this sign-in's CSRF token. */
  csrfMatches(presented: string): boolean;
}

export interface NewSignIn {
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export class SignInStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    readonly ttlMs: number,
  ) {}

  async create(record: ApiKeyRecord): Promise<NewSignIn> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const key = this.keyOf(token);
    await this.redis
      .multi()
      .hset(key, { keyId: record.keyId, scopes: record.scopes.join(','), csrf: sha256(csrfToken), expiresAtMs: String(expiresAt.getTime()) })
      .pexpire(key, this.ttlMs)
      .exec();
    return { token, csrfToken, expiresAt };
  }

  /** The sign-in of a cookie's token; null when the token is malformed, unknown or expired. */
  async find(token: string): Promise<SignIn | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const fields = await this.redis.hgetall(this.keyOf(token));
    const expiresAtMs = Number(fields.expiresAtMs);
    if (!fields.keyId || !fields.csrf || !Number.isFinite(expiresAtMs) || expiresAtMs <= Date.now()) return null;
    const csrf = Buffer.from(fields.csrf, 'hex');
    return {
      keyId: fields.keyId,
      scopes: (fields.scopes ?? '').split(',').filter((s): s is ApiScope => apiScopeSchema.safeParse(s).success),
      expiresAt: new Date(expiresAtMs),
      csrfMatches: (presented) => {
        const hash = Buffer.from(sha256(presented), 'hex');
        return hash.length === csrf.length && timingSafeEqual(hash, csrf);
      },
    };
  }

  /** Ends a sign-in (logout, or its key found revoked); a malformed or unknown token is a no-op. */
  async delete(token: string): Promise<void> {
    if (TOKEN_PATTERN.test(token)) await this.redis.del(this.keyOf(token));
  }

  private keyOf(token: string): string {
    return `${this.prefix}:api:sign-in:${sha256(token)}`;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
