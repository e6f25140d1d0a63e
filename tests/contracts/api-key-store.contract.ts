// One suite for every ApiKeyStore: in memory and on MongoDB/FerretDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/shared/errors.js';
import { isApiKeyStore, type ApiKeyStore, type ApiScope } from '../../src/shared/ports/api-key-store.js';

export interface ApiKeyStoreUnderTest {
  impl: ApiKeyStore;
  /** Everything the store keeps, as stored (to prove no secret is kept in clear). */
  stored(): Promise<readonly object[]>;
  close(): Promise<void>;
}

export function describeApiKeyStoreContract(name: string, make: () => Promise<ApiKeyStoreUnderTest>): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let subject: ApiKeyStoreUnderTest;
    let keys: ApiKeyStore;

    beforeAll(async () => {
      subject = await make();
      keys = subject.impl;
    });
    afterAll(() => subject.close());

    it('passes its type guard', () => {
      expect(isApiKeyStore(keys)).toBe(true);
      expect(isApiKeyStore({ create: () => undefined, verify: () => undefined, revoke: () => undefined, list: () => undefined })).toBe(false);
    });

    it('creates a key shown once and verifies it to its record with its scopes', async () => {
      const { key, record } = await keys.create({ scopes: ['turns:read', 'turns:write'], name: 'app' });
      expect(key).toMatch(/^voxq_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(key).toContain(record.keyId);
      expect(record).toMatchObject({ name: 'app', scopes: ['turns:read', 'turns:write'] });
      expect(record.revokedAt).toBeUndefined();
      expect(await keys.verify(key)).toEqual(record);
    });

    it('keeps only a hash of the secret', async () => {
      const { key } = await keys.create({ scopes: ['metrics:read'] });
      const secret = key.split('_').slice(2).join('_');
      const everything = JSON.stringify(await subject.stored());
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(key);
    });

    it('refuses malformed, unknown and tampered keys', async () => {
      const { key } = await keys.create({ scopes: ['board:read'] });
      const last = key.at(-1) === 'A' ? 'B' : 'A';
      for (const bad of ['', 'Bearer x', 'voxq_', key.slice(0, -1), `${key.slice(0, -1)}${last}`, `voxq_0123456789abcdef_${'A'.repeat(43)}`]) {
        expect(await keys.verify(bad), bad).toBeNull();
      }
    });

    it('revokes once: the key stops verifying, a second revoke and an unknown id say false', async () => {
      const { key, record } = await keys.create({ scopes: ['board:admin'], name: 'ops' });
      expect(await keys.revoke(record.keyId)).toBe(true);
      expect(await keys.verify(key)).toBeNull();
      expect(await keys.revoke(record.keyId)).toBe(false);
      expect(await keys.revoke('0123456789abcdef')).toBe(false);
      const listed = (await keys.list()).find((k) => k.keyId === record.keyId);
      expect(listed?.revokedAt).toBeInstanceOf(Date);
      expect(listed?.scopes).toEqual(['board:admin']);
    });

    it('lists every key oldest first, without secrets', async () => {
      const listed = await keys.list();
      expect(listed.length).toBeGreaterThanOrEqual(4);
      for (const record of listed) expect(Object.keys(record).sort()).toEqual(expect.arrayContaining(['createdAt', 'keyId', 'name', 'scopes']));
      expect(JSON.stringify(listed)).not.toContain('secret');
      const times = listed.map((r) => r.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('gets a live key by id; an unknown or revoked id is null', async () => {
      const { record } = await keys.create({ scopes: ['turns:read'], name: 'by-id' });
      expect(await keys.get(record.keyId)).toEqual(record);
      expect(await keys.get('0123456789abcdef')).toBeNull();
      expect(await keys.get('')).toBeNull();
      await keys.revoke(record.keyId);
      expect(await keys.get(record.keyId)).toBeNull();
    });

    it('keeps a binding and quotas; an unbound, unlimited key has neither', async () => {
      const { key, record } = await keys.create({
        scopes: ['turns:read', 'turns:write'],
        binding: { userId: ' ana ', tenant: 'acme' },
        quota: { requestsPerMinute: 60, maxTurnsInFlight: 2 },
      });
      expect(record).toMatchObject({ binding: { userId: 'ana', tenant: 'acme' }, quota: { requestsPerMinute: 60, maxTurnsInFlight: 2 } });
      expect(await keys.verify(key)).toEqual(record);
      expect(await keys.get(record.keyId)).toEqual(record);
      const userOnly = await keys.create({ scopes: ['turns:read'], binding: { userId: 'bia' }, quota: {} });
      expect(userOnly.record.binding).toEqual({ userId: 'bia' });
      expect(userOnly.record).not.toHaveProperty('quota');
      const plain = await keys.create({ scopes: ['turns:read'], binding: {} });
      expect(plain.record).not.toHaveProperty('binding');
      expect(plain.record).not.toHaveProperty('quota');
      expect(await keys.verify(plain.key)).toEqual(plain.record);
    });

    it('rejects an empty binding and quotas that are not positive whole numbers', async () => {
      await expect(keys.create({ scopes: ['turns:read'], binding: { userId: '  ' } })).rejects.toMatchObject({ code: 'invalid_binding' });
      await expect(keys.create({ scopes: ['turns:read'], binding: { tenant: 'x'.repeat(201) } })).rejects.toMatchObject({ code: 'invalid_binding' });
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        await expect(keys.create({ scopes: ['turns:read'], quota: { requestsPerMinute: bad } })).rejects.toMatchObject({ code: 'invalid_quota' });
        await expect(keys.create({ scopes: ['turns:read'], quota: { maxTurnsInFlight: bad } })).rejects.toThrow(InputError);
      }
    });

    it('rejects unknown or no scopes with an InputError naming them', async () => {
      await expect(keys.create({ scopes: ['turns:delete' as ApiScope] })).rejects.toThrow(InputError);
      await expect(keys.create({ scopes: ['turns:delete' as ApiScope] })).rejects.toThrow(/turns:delete/);
      await expect(keys.create({ scopes: [] })).rejects.toMatchObject({ code: 'invalid_scopes' });
    });
  });
}
