// What a turn's life costs the database, seen on the wire: every update of the turns collection
// finds its document by `_id` alone (FerretDB v1 scans the whole collection for any other
// filter, so a compound filter makes each write slower as the turns grow), and the writes stay
// few — one insert per transition, one copy onto the document per stage and for the end.
import type { CommandStartedEvent } from 'mongodb';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoTurnStore } from '../../src/shared/store/mongo-turn-store.js';
import { ensureIndexes } from '../../src/shared/store/indexes.js';
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

describe('MongoTurnStore on the wire', () => {
  it('updates turn documents by _id alone, with one write per transition and one copy each', async () => {
    const db = client.db(uniqueDbName('turn_queries'));
    try {
      await ensureIndexes(db);
      const store = new MongoTurnStore(db);
      const turn = makeTurn();
      const timing = { enqueuedAt: new Date(), startedAt: new Date(), finishedAt: new Date(), queueWaitMs: 0, workMs: 1, attempts: 1 };
      commands.length = 0;
      await store.create(turn);
      await store.markRunning(turn.turnId);
      await store.saveStage(turn.turnId, 'llm', { output: { text: 'Olá!', provider: 'fake', model: 'fake', contextMessages: 1 }, timing });
      await store.complete(turn.turnId, new Date());
      // The same writes again (a job run twice) copy nothing more.
      await store.markRunning(turn.turnId);
      await store.saveStage(turn.turnId, 'llm', { output: { text: 'Olá!', provider: 'fake', model: 'fake', contextMessages: 1 }, timing });
      await store.complete(turn.turnId, new Date());

      const updates = commands.filter((c) => c.commandName === 'update');
      const filters = updates.flatMap((c) => (c.command.updates as { q: Record<string, unknown> }[]).map((u) => Object.keys(u.q)));
      expect(filters).toEqual([['_id'], ['_id']]);
      const writes = commands.filter((c) => ['insert', 'update', 'delete', 'findAndModify'].includes(c.commandName)).map((c) => c.commandName);
      // create, running, llm stage + its copy, end + its copy; then three refused inserts.
      expect(writes).toEqual(['insert', 'insert', 'insert', 'update', 'insert', 'update', 'insert', 'insert', 'insert']);
      const stored = await store.get(turn.turnId);
      expect(stored?.status).toBe('completed');
      expect(stored?.stages.llm?.output.text).toBe('Olá!');
    } finally {
      await db.dropDatabase();
    }
  });
});
