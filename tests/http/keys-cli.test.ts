// `voxq keys create|list|revoke` (the built CLI) against the test database, and the keys it
// makes working (and then not) against the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoApiKeyStore, API_KEYS_COLLECTION } from '../../src/shared/store/mongo-api-key-store.js';
import type { MongoStores } from '../../src/shared/store/mongo-stores.js';
import { spawnVoxq } from '../support/voxq-process.js';
import { startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let env: Record<string, string>;

beforeAll(async () => {
  h = await startApiHarness();
  const { config } = h.pipeline;
  env = { REDIS_URL: config.REDIS_URL, MONGO_URL: config.MONGO_URL ?? '', VOXQ_MONGO_DB: config.VOXQ_MONGO_DB, VOXQ_PREFIX: config.VOXQ_PREFIX, VOXQ_LOG_LEVEL: 'silent' };
});
afterAll(() => h.close());

/** The harness's database (its pipeline runs on MongoDB). */
const db = () => (h.pipeline.stores as MongoStores).db;

async function voxq(...args: string[]): Promise<{ code: number | string; out: string; err: string }> {
  const p = spawnVoxq(args, env);
  const code = await p.exited;
  return { code, out: p.stdout(), err: p.stderr() };
}

describe('voxq keys', () => {
  it('creates a key (printed once, stored hashed), lists it, and revokes it', async () => {
    const created = await voxq('keys', 'create', '--scopes', 'turns:read,metrics:read', '--name', 'grafana');
    expect(created.code).toBe(0);
    const key = created.out.trim();
    expect(key).toMatch(/^voxq_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const keyId = key.slice(5, 21);
    expect(created.err).toContain(keyId);
    expect(created.err).not.toContain(key);

    const stored = await db().collection(API_KEYS_COLLECTION).find({}).toArray();
    expect(JSON.stringify(stored)).not.toContain(key.slice(22));

    expect((await h.fetch('/metrics', { key })).status).toBe(200);
    expect((await h.fetch('/v1/sessions', { key, json: { userId: 'x' } })).status).toBe(403);

    const listed = await voxq('keys', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`${keyId} +live +turns:read,metrics:read +grafana`));
    expect(listed.out).not.toContain(key);

    const revoked = await voxq('keys', 'revoke', key);
    expect(revoked).toMatchObject({ code: 0, out: `revoked ${keyId}\n` });
    expect((await h.fetch('/metrics', { key })).status).toBe(401);
    expect((await voxq('keys', 'list')).out).toMatch(new RegExp(`${keyId} +revoked `));
    expect(await new MongoApiKeyStore(db()).verify(key)).toBeNull();
  });

  it('binds a key to a user and a tenant and gives it quotas; list shows them; the API holds it to them', async () => {
    const created = await voxq('keys', 'create', '--scopes', 'turns:read,turns:write', '--user', 'ana', '--tenant', 'acme', '--rpm', '60', '--max-turns-in-flight', '2', '--name', 'kiosk');
    expect(created.code, created.err).toBe(0);
    const key = created.out.trim();
    const keyId = key.slice(5, 21);
    expect(created.err).toContain('(user ana, tenant acme, 60 rpm, 2 turns in flight)');
    expect(await new MongoApiKeyStore(db()).get(keyId)).toMatchObject({ binding: { userId: 'ana', tenant: 'acme' }, quota: { requestsPerMinute: 60, maxTurnsInFlight: 2 } });
    expect((await voxq('keys', 'list')).out).toMatch(new RegExp(`${keyId} +live +turns:read,turns:write +kiosk \\(user ana, tenant acme, 60 rpm, 2 turns in flight\\)`));
    expect((await h.fetch('/v1/sessions', { key, json: { userId: 'bia' } })).status).toBe(403);
    const session = (await (await h.fetch('/v1/sessions', { key, json: { userId: 'ana' } })).json()) as { metadata: Record<string, unknown> };
    expect(session.metadata).toEqual({ tenant: 'acme' });

    // Bad values are refused (the store's own checks are in the ApiKeyStore contract).
    const refused = await voxq('keys', 'create', '--scopes', 'turns:read', '--user', ' ');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('userId must be');
  }, 120_000); // five CLI processes, each opening MongoDB

  it('refuses unknown scopes and unknown keys with exit 2 and a message naming them', async () => {
    const bad = await voxq('keys', 'create', '--scopes', 'turns:read,turns:delete');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('turns:delete');
    expect(bad.err).toContain('board:admin');
    const missing = await voxq('keys', 'create');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('--scopes');
    const unknown = await voxq('keys', 'revoke', '0123456789abcdef');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('0123456789abcdef');
  });
});
