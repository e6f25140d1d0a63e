// API keys for the HTTP API and Bull Board. A key is shown once, when created; the store keeps
// only a hash of its secret. Scopes say what a key may do; a binding limits whose sessions it
// sees; quotas limit how much it may ask.
import { z } from 'zod';
import { conformsTo, type PortSpec } from './port-spec.js';

export const API_SCOPES = ['turns:read', 'turns:write', 'metrics:read', 'board:read', 'board:admin'] as const;
export const apiScopeSchema = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof apiScopeSchema>;

/**
 * Whose sessions a key sees. Unbound (both absent): every session, as an operator. `userId`: only
 * sessions of that user (a session's `userId`). `tenant`: only sessions whose `metadata.tenant` is
 * that tenant. Both: sessions matching both.
 */
export interface ApiKeyBinding {
  userId?: string;
  tenant?: string;
}

/** Per-key limits, enforced in Redis across every API instance. Absent: no limit. */
export interface ApiKeyQuota {
  /** Requests the key may make in any 60 s. */
  requestsPerMinute?: number;
  /** Turns the key submitted that have not ended (completed, failed or interrupted). */
  maxTurnsInFlight?: number;
}

export interface ApiKeyRecord {
  /** The public part of the key (`voxq_<keyId>_<secret>`): safe to log, list and revoke by. */
  keyId: string;
  name: string;
  scopes: ApiScope[];
  /** Absent: an unbound (operator) key. */
  binding?: ApiKeyBinding;
  /** Absent: no limits. */
  quota?: ApiKeyQuota;
  createdAt: Date;
  revokedAt?: Date;
}

export interface CreateApiKeyOptions {
  scopes: readonly ApiScope[];
  name?: string;
  binding?: ApiKeyBinding;
  quota?: ApiKeyQuota;
}

export interface CreatedApiKey {
  /** The whole key: shown to its owner once, never stored. */
  key: string;
  record: ApiKeyRecord;
}

export interface ApiKeyStore {
  /** Throws InputError for unknown or no scopes, an empty binding value, a quota that is not a positive whole number. */
  create(options: CreateApiKeyOptions): Promise<CreatedApiKey>;
  /** The key's record when it is well-formed, known, its secret matches and it is not revoked; else null. */
  verify(key: string): Promise<ApiKeyRecord | null>;
  /** A live key's record by id (a sign-in session re-reads its key with it); null when unknown or revoked. */
  get(keyId: string): Promise<ApiKeyRecord | null>;
  /** True when this call revoked it; false when unknown or already revoked. */
  revoke(keyId: string): Promise<boolean>;
  /** Every key, revoked ones included, oldest first (never their secrets). */
  list(): Promise<ApiKeyRecord[]>;
}

export const API_KEY_STORE_PORT: PortSpec = { name: 'ApiKeyStore', methods: ['create', 'verify', 'get', 'revoke', 'list'] };

/** The seed's isinstance check: every method of ApiKeyStore is there. */
export function isApiKeyStore(value: unknown): value is ApiKeyStore {
  return conformsTo(value, API_KEY_STORE_PORT);
}
