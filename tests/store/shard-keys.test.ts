// The documented shard keys (src/shared/store/shard-keys.ts, README "MongoDB at scale") hold:
// each is backed by an index ensureIndexes makes (on FerretDB too), and the history and
// statistics queries, seen on the wire, filter on the shard key by equality (so a sharded
// cluster sends them to one shard), as do a session's and a turn's reads by id.
import type { CommandStartedEvent, Document } from 'mongodb';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureIndexes } from '../../src/shared/store/indexes.js';
import { MongoConversationStore } from '../../src/shared/store/mongo-conversation-store.js';
import { MongoSessionManager } from '../../src/shared/store/mongo-session-manager.js';
import { MongoTurnStore } from '../../src/shared/store/mongo-turn-store.js';
import { SHARD_KEYS } from '../../src/shared/store/shard-keys.js';
import { makeTurn } from '../contracts/turn-store.contract.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';

let client: MongoClient;
const commands: CommandStartedEvent[] = [];
beforeAll(async () => {
  client = new MongoClient(testMongoUrl(), { monitorCommands: true });
  client.on('commandStarted', (event) => commands.push(event));
  await client.connect();
});
afterAll(async () => {
  await client.close();
});

/** The filter a read command sends: find's, count's query, or an aggregate's first $match. */
function filterOf(command: Document): Document | undefined {
  if (command.find !== undefined) return command.filter as Document;
  if (command.count !== undefined) return command.query as Document;
  if (command.aggregate !== undefined) return ((command.pipeline as Document[])[0]?.$match as Document | undefined) ?? undefined;
  return undefined;
}

describe('shard keys', () => {
  it('are each backed by an index, and history, statistics and reads by id target one shard', async () => {
    const db = client.db(uniqueDbName('shard_keys'));
    try {
      await ensureIndexes(db);
      const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
      for (const { collection } of SHARD_KEYS) if (!existing.has(collection)) await db.createCollection(collection);
      for (const { collection, key } of SHARD_KEYS) {
        const indexes = await db.collection(collection).listIndexes().toArray();
        const fields = Object.entries(key);
        const backed = indexes.some((index) => {
          const indexFields = Object.entries((index as { key: Record<string, unknown> }).key);
          return fields.every(([name, direction], i) => indexFields[i]?.[0] === name && indexFields[i]?.[1] === direction);
        });
        expect(backed, `${collection}: an index starting with ${JSON.stringify(key)}`).toBe(true);
      }

      const conversations = new MongoConversationStore(db);
      const sessions = new MongoSessionManager(db, conversations);
      const turns = new MongoTurnStore(db);
      const session = await sessions.createSession('shard-user');
      await sessions.addInteraction({ sessionId: session.sessionId, userMessage: 'Oi', assistantResponse: 'Olá!', turnId: 'turn_shard_1' });
      const turn = makeTurn({ sessionId: session.sessionId });
      await turns.create(turn);
      commands.length = 0;
      await conversations.history(session.sessionId, { limit: 10 });
      await conversations.statistics(session.sessionId);
      await sessions.getSession(session.sessionId);
      await turns.get(turn.turnId);
      const reads = commands.filter((c) => filterOf(c.command) !== undefined);
      const byCollection = (name: string) => reads.filter((c) => (c.command.find ?? c.command.count ?? c.command.aggregate) === name).map((c) => filterOf(c.command));
      const keyOf = (collection: string) => Object.keys(SHARD_KEYS.find((k) => k.collection === collection)?.key ?? {})[0] ?? '';
      // Every read of these collections names one value of the collection's (first) shard key field.
      for (const collection of ['messages', 'interactions', 'sessions', 'turns', 'turn_transitions']) {
        const filters = byCollection(collection);
        expect(filters.length, collection).toBeGreaterThan(0);
        for (const filter of filters) expect(typeof filter?.[keyOf(collection)], `${collection} ${JSON.stringify(filter)}`).toBe('string');
      }
    } finally {
      await db.dropDatabase();
    }
  });
});
