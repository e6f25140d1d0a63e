// The SDK while a store is down: each call fails with an UnavailableError whose code names the
// store (redis_unavailable, database_unavailable), never with a driver's bare error, and the
// client works again once the store is back.
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError } from '../../src/producers/http/http-errors.js';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { UnavailableError } from '../../src/shared/errors.js';
import { createMemoryStores } from '../../src/shared/store/mongo-stores.js';
import { testConfig } from '../support/pipeline.js';
import { freePort } from '../support/free-port.js';

let client: VoxqClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});


async function refusal(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { resolved: await call() };
  } catch (error) {
    return error;
  }
}

describe('SDK during an outage', () => {
  it('answers every call with redis_unavailable while Redis is down, printing no error of its connections or queues', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const config = { ...testConfig('vout', undefined), REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    client = await connect({ config, stores: createMemoryStores() });
    const c = client;
    const calls: [string, () => Promise<unknown>][] = [
      ['createSession', () => c.createSession('u')],
      ['enqueueTurn', () => c.enqueueTurn({ sessionId: 'sess_00000000-0000-4000-8000-000000000000', text: 'olá' })],
      ['cancelSession', () => c.cancelSession('sess_00000000-0000-4000-8000-000000000000')],
      ['waitForTurn', () => c.waitForTurn('turn_00000000-0000-4000-8000-000000000000', { timeoutMs: 5000 })],
    ];
    for (const [name, call] of calls) {
      const error = await refusal(call);
      expect(error, name).toBeInstanceOf(UnavailableError);
      expect(error, name).toMatchObject({ code: 'redis_unavailable' });
      expect((error as Error).message, name).not.toContain('127.0.0.1');
    }
    // An outage is reported once per connection as a process warning, never as printed errors.
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
  });

  it('answers with database_unavailable while MongoDB is down, and works again once it is back', async () => {
    const stores = createMemoryStores();
    let down = true;
    const sessions = new Proxy(stores.sessions, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          down ? Promise.reject(new MongoNetworkError('connect ECONNREFUSED 10.0.0.7:27017')) : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    client = await connect({ config: testConfig('vout', undefined), stores: { ...stores, sessions } });
    const error = await refusal(() => client!.createSession('u'));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'database_unavailable' });
    expect((error as Error).message).not.toContain('10.0.0.7');
    down = false;
    const session = await client.createSession('u');
    expect(session.userId).toBe('u');
  });

  it('connect() with the database down: database_unavailable, not the driver\'s error', async () => {
    const config = testConfig('vout', `mongodb://127.0.0.1:${await freePort()}/?serverSelectionTimeoutMS=500`);
    const error = await refusal(() => connect({ config }));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'database_unavailable' });
  });

  it('is a 503 with the store named in the API, not a 500', () => {
    expect(describeError(new MongoNetworkError('connect ECONNREFUSED 10.0.0.7:27017'))).toMatchObject({ status: 503, code: 'database_unavailable' });
    const redisDown = Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' });
    expect(describeError(redisDown)).toMatchObject({ status: 503, code: 'redis_unavailable' });
  });
});
