// API keys in MongoDB: `_id` is the key id, the secret only as a SHA-256 hash. A key is created
// by one insert on its `_id`; revoking sets `revokedAt` once (the filter skips revoked keys).
import type { Collection, Db } from 'mongodb';
import { apiScopeSchema, type ApiKeyBinding, type ApiKeyQuota, type ApiKeyRecord, type ApiKeyStore, type ApiScope, type CreateApiKeyOptions, type CreatedApiKey } from '../ports/api-key-store.js';
import { validKeyOptions } from './api-key-options.js';
import { newKeySecret, parseKey, secretMatches } from './api-key-secret.js';
import { insertOnce, withoutUndefined } from './mongo-support.js';

export const API_KEYS_COLLECTION = 'api_keys';

interface ApiKeyDocument {
  _id: string;
  name: string;
  scopes: string[];
  secretHash: string;
  binding?: ApiKeyBinding;
  quota?: ApiKeyQuota;
  createdAt: Date;
  revokedAt?: Date;
}

/** The ApiKeyStore on MongoDB: only a hash of each key's secret is stored. */
export class MongoApiKeyStore implements ApiKeyStore {
  private readonly keys: Collection<ApiKeyDocument>;

  constructor(db: Db) {
    this.keys = db.collection<ApiKeyDocument>(API_KEYS_COLLECTION);
  }

  async create(options: CreateApiKeyOptions): Promise<CreatedApiKey> {
    const valid = validKeyOptions(options);
    const { keyId, key, secretHash } = newKeySecret();
    const doc: ApiKeyDocument = withoutUndefined({ _id: keyId, name: valid.name, scopes: valid.scopes, secretHash, binding: valid.binding, quota: valid.quota, createdAt: new Date() });
    // Insert-once by its (fresh) id: a retried insert that finds its own document is not an error.
    if (!(await insertOnce(this.keys, doc))) throw new Error(`API key id ${doc._id} is taken`);
    return { key, record: recordOf(doc) };
  }

  async verify(key: string): Promise<ApiKeyRecord | null> {
    const parsed = parseKey(key);
    if (!parsed) return null;
    const doc = await this.keys.findOne({ _id: parsed.keyId });
    if (!doc || doc.revokedAt || !secretMatches(parsed.secret, doc.secretHash)) return null;
    return recordOf(doc);
  }

  async get(keyId: string): Promise<ApiKeyRecord | null> {
    if (typeof keyId !== 'string' || keyId === '') return null;
    const doc = await this.keys.findOne({ _id: keyId, revokedAt: { $exists: false } });
    return doc ? recordOf(doc) : null;
  }

  async revoke(keyId: string): Promise<boolean> {
    const result = await this.keys.updateOne({ _id: keyId, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date() } });
    return result.modifiedCount === 1;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const docs = await this.keys.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(recordOf);
  }
}

function recordOf(doc: ApiKeyDocument): ApiKeyRecord {
  // Scopes no longer known (a downgrade) are dropped rather than trusted.
  const scopes = doc.scopes.filter((s): s is ApiScope => apiScopeSchema.safeParse(s).success);
  const binding = doc.binding && (doc.binding.userId !== undefined || doc.binding.tenant !== undefined) ? { userId: doc.binding.userId, tenant: doc.binding.tenant } : undefined;
  const quota = doc.quota ? { requestsPerMinute: doc.quota.requestsPerMinute, maxTurnsInFlight: doc.quota.maxTurnsInFlight } : undefined;
  return withoutUndefined({ keyId: doc._id, name: doc.name, scopes, binding, quota, createdAt: doc.createdAt, revokedAt: doc.revokedAt });
}
