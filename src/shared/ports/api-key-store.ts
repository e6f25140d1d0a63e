// API keys for the HTTP API and Bull Board. A key is shown once, when created; the store keeps
// only a hash of its secret. Scopes say what a key may do.
import { z } from 'zod';
import { hasMethods } from './has-methods.js';

export const API_SCOPES = ['turns:read', 'turns:write', 'metrics:read', 'board:read', 'board:admin'] as const;
export const apiScopeSchema = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof apiScopeSchema>;

export interface ApiKeyRecord {
  /** The public part of the key (`voxq_<keyId>_<secret>`): safe to log, list and revoke by. */
  keyId: string;
  name: string;
  scopes: ApiScope[];
  createdAt: Date;
  revokedAt?: Date;
}

export interface CreatedApiKey {
  /** The whole key: shown to its owner once, never stored. */
  key: string;
  record: ApiKeyRecord;
}

export interface ApiKeyStore {
  create(options: { scopes: readonly ApiScope[]; name?: string }): Promise<CreatedApiKey>;
  /** The key's record when it is well-formed, known, its secret matches and it is not revoked; else null. */
  verify(key: string): Promise<ApiKeyRecord | null>;
  /** True when this call revoked it; false when unknown or already revoked. */
  revoke(keyId: string): Promise<boolean>;
  /** Every key, revoked ones included, oldest first (never their secrets). */
  list(): Promise<ApiKeyRecord[]>;
}

export function isApiKeyStore(value: unknown): value is ApiKeyStore {
  return hasMethods(value, ['create', 'verify', 'revoke', 'list']);
}
