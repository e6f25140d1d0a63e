// API keys in memory (tests, benchmarks): the same hashing and checks as the MongoDB store.
import type { ApiKeyRecord, ApiKeyStore, CreateApiKeyOptions, CreatedApiKey } from '../ports/api-key-store.js';
import { validKeyOptions } from './api-key-options.js';
import { newKeySecret, parseKey, secretMatches } from './api-key-secret.js';

interface StoredKey extends ApiKeyRecord {
  secretHash: string;
}

/** The ApiKeyStore in memory (tests). */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly keys = new Map<string, StoredKey>();

  create(options: CreateApiKeyOptions): Promise<CreatedApiKey> {
    try {
      return Promise.resolve(this.createNow(options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private createNow(options: CreateApiKeyOptions): CreatedApiKey {
    const valid = validKeyOptions(options);
    const { keyId, key, secretHash } = newKeySecret();
    const stored: StoredKey = { keyId, ...valid, createdAt: new Date(), secretHash };
    this.keys.set(keyId, stored);
    return { key, record: recordOf(stored) };
  }

  verify(key: string): Promise<ApiKeyRecord | null> {
    const parsed = parseKey(key);
    const stored = parsed ? this.keys.get(parsed.keyId) : undefined;
    if (!parsed || !stored || stored.revokedAt || !secretMatches(parsed.secret, stored.secretHash)) return Promise.resolve(null);
    return Promise.resolve(recordOf(stored));
  }

  get(keyId: string): Promise<ApiKeyRecord | null> {
    const stored = this.keys.get(keyId);
    return Promise.resolve(stored && !stored.revokedAt ? recordOf(stored) : null);
  }

  revoke(keyId: string): Promise<boolean> {
    const stored = this.keys.get(keyId);
    if (!stored || stored.revokedAt) return Promise.resolve(false);
    stored.revokedAt = new Date();
    return Promise.resolve(true);
  }

  list(): Promise<ApiKeyRecord[]> {
    return Promise.resolve([...this.keys.values()].map(recordOf));
  }

  /** What the store holds, for tests that check no secret is kept. */
  stored(): readonly object[] {
    return [...this.keys.values()];
  }
}

function recordOf(stored: StoredKey): ApiKeyRecord {
  const record: ApiKeyRecord = { keyId: stored.keyId, name: stored.name, scopes: [...stored.scopes], createdAt: stored.createdAt };
  if (stored.binding) record.binding = { ...stored.binding };
  if (stored.quota) record.quota = { ...stored.quota };
  if (stored.revokedAt) record.revokedAt = stored.revokedAt;
  return record;
}
