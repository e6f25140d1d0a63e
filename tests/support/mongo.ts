// Test helpers for MongoDB (or the bundled FerretDB): one uniquely named database per test file
// or test, dropped afterwards.
import { randomBytes } from 'node:crypto';

import { MongoClient, type Db } from 'mongodb';
import { inject } from 'vitest';

export interface TestDb {
  client: MongoClient;
  db: Db;
  /** Drops the database and closes the client. Idempotent. */
  drop(): Promise<void>;
}

export function testMongoUrl(): string {
  const url = inject('mongoUrl');
  if (url === '') throw new Error('no mongoUrl provided: is tests/support/global-setup.ts configured?');
  return url;
}

/**
 * `t_<prefix>_<10 hex>`, at most 37 characters. FerretDB v1 accepts database names matching
 * ^[a-zA-Z0-9_-]{1,63}$ (not starting with `_ferretdb_`; the SQLite backend keeps one file per
 * database); MongoDB allows 63 bytes. The prefix is squeezed into [a-zA-Z0-9_] and cut to 24.
 * Collection names there: up to 235 characters, no `$`, not starting with `.`.
 */
export function uniqueDbName(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9_]/g, '_').slice(0, 24);
  return `t_${clean}_${randomBytes(5).toString('hex')}`;
}

export async function connectTestDb(prefix: string): Promise<TestDb> {
  const client = new MongoClient(testMongoUrl(), { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(uniqueDbName(prefix));
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropped ??= (async () => {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    })();
    return dropped;
  };
  return { client, db, drop };
}
