// API keys in MongoDB: `_id` is the key id, the secret only as a SHA-256 hash. A key is created
// by one insert on its `_id`; revoking sets `revokedAt` once (the filter skips revoked keys).
import type { Collection, Db } from 'mongodb';
import { apiScopeSchema, type ApiKeyRecord, type ApiKeyStore, type ApiScope, type CreatedApiKey } from '../ports/api-key-store.js';
import { newKeySecret, parseKey, secretMatches, validScopes } from './api-key-secret.js';
import { withoutUndefined } from './mongo-support.js';

export const API_KEYS_COLLECTION = 'api_keys';

interface ApiKeyDocument {
  _id: string;
  name: string;
  scopes: string[];
  secretHash: string;
  createdAt: Date;
  revokedAt?: Date;
}

export class MongoApiKeyStore implements ApiKeyStore {
  private readonly keys: Collection<ApiKeyDocument>;

  constructor(db: Db) {
    this.keys = db.collection<ApiKeyDocument>(API_KEYS_COLLECTION);
  }

  async create(options: { scopes: readonly ApiScope[]; name?: string }): Promise<CreatedApiKey> {
    const scopes = validScopes(options.scopes);
    const { keyId, key, secretHash } = newKeySecret();
    const doc: ApiKeyDocument = { _id: keyId, name: options.name ?? '', scopes, secretHash, createdAt: new Date() };
    await this.keys.insertOne(doc);
    return { key, record: recordOf(doc) };
  }

  async verify(key: string): Promise<ApiKeyRecord | null> {
    const parsed = parseKey(key);
    if (!parsed) return null;
    const doc = await this.keys.findOne({ _id: parsed.keyId });
    if (!doc || doc.revokedAt || !secretMatches(parsed.secret, doc.secretHash)) return null;
    return recordOf(doc);
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
  return withoutUndefined({ keyId: doc._id, name: doc.name, scopes, createdAt: doc.createdAt, revokedAt: doc.revokedAt });
}
