// `voxq keys create|revoke|list`: API keys in MongoDB. A new key is printed once, on stdout; a key
// may be bound to a user or tenant and given quotas when created.
import { loadConfig, requireMongoUrl } from '../../shared/config.js';
import { NotFoundError } from '../../shared/errors.js';
import type { ApiKeyBinding, ApiKeyQuota, ApiKeyRecord } from '../../shared/ports/api-key-store.js';
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

export interface KeysCreateOptions {
  scopes: string;
  name?: string;
  /** Bind the key to one user: it sees only that user's sessions and creates sessions for it only. */
  user?: string;
  /** Bind the key to one tenant: it sees only sessions whose metadata.tenant is it, and its sessions get it. */
  tenant?: string;
  /** Requests per minute. */
  rpm?: number;
  maxTurnsInFlight?: number;
}

export async function runKeysCreate(options: KeysCreateOptions): Promise<void> {
  const scopes = validScopes(options.scopes.split(',').map((s) => s.trim()).filter(Boolean));
  const binding: ApiKeyBinding = { ...(options.user !== undefined ? { userId: options.user } : {}), ...(options.tenant !== undefined ? { tenant: options.tenant } : {}) };
  const quota: ApiKeyQuota = {
    ...(options.rpm !== undefined ? { requestsPerMinute: options.rpm } : {}),
    ...(options.maxTurnsInFlight !== undefined ? { maxTurnsInFlight: options.maxTurnsInFlight } : {}),
  };
  const { key, record } = await withKeyStore((keys) => keys.create({ scopes, binding, quota, ...(options.name ? { name: options.name } : {}) }));
  process.stderr.write(`created key ${record.keyId} with scopes ${record.scopes.join(', ')}${describeLimits(record)}; it is shown once, store it now:\n`);
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
  return `${record.keyId}  ${state.padEnd(32)}  ${record.scopes.join(',').padEnd(40)}  ${record.name}${describeLimits(record)}`;
}

/** `, user ana, tenant acme, 60 rpm, 2 turns in flight`, or nothing for an unbound, unlimited key. */
function describeLimits(record: ApiKeyRecord): string {
  const parts = [
    record.binding?.userId !== undefined ? `user ${record.binding.userId}` : '',
    record.binding?.tenant !== undefined ? `tenant ${record.binding.tenant}` : '',
    record.quota?.requestsPerMinute !== undefined ? `${record.quota.requestsPerMinute} rpm` : '',
    record.quota?.maxTurnsInFlight !== undefined ? `${record.quota.maxTurnsInFlight} turns in flight` : '',
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
