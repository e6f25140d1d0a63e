// `voxq keys create|revoke|list`: API keys in MongoDB. A new key is printed once, on stdout.
import { loadConfig, requireMongoUrl } from '../../shared/config.js';
import { NotFoundError } from '../../shared/errors.js';
import type { ApiKeyRecord } from '../../shared/ports/api-key-store.js';
import { keyIdOf, validScopes } from '../../shared/store/api-key-secret.js';
import { MongoApiKeyStore } from '../../shared/store/mongo-api-key-store.js';
import { openMongoStores } from '../../shared/store/mongo-stores.js';

async function withKeyStore<T>(fn: (keys: MongoApiKeyStore) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const stores = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
  try {
    return await fn(new MongoApiKeyStore(stores.db));
  } finally {
    await stores.close();
  }
}

export async function runKeysCreate(options: { scopes: string; name?: string }): Promise<void> {
  const scopes = validScopes(options.scopes.split(',').map((s) => s.trim()).filter(Boolean));
  const { key, record } = await withKeyStore((keys) => keys.create({ scopes, ...(options.name ? { name: options.name } : {}) }));
  process.stderr.write(`created key ${record.keyId} with scopes ${record.scopes.join(', ')}; it is shown once, store it now:\n`);
  process.stdout.write(`${key}\n`);
}

export async function runKeysRevoke(idOrKey: string): Promise<void> {
  const keyId = keyIdOf(idOrKey.trim());
  const revoked = await withKeyStore((keys) => keys.revoke(keyId));
  if (!revoked) throw new NotFoundError('key_not_found', `no live key ${keyId} (unknown or already revoked; see \`voxq keys list\`)`);
  process.stdout.write(`revoked ${keyId}\n`);
}

export async function runKeysList(): Promise<void> {
  const records = await withKeyStore((keys) => keys.list());
  for (const record of records) process.stdout.write(`${formatKey(record)}\n`);
}

function formatKey(record: ApiKeyRecord): string {
  const state = record.revokedAt ? `revoked ${record.revokedAt.toISOString()}` : 'live';
  return `${record.keyId}  ${state.padEnd(32)}  ${record.scopes.join(',').padEnd(40)}  ${record.name}`;
}
