// Many followers of turn logs on one blocking connection: each gets exactly the entries after
// its own position, in order — also one that joins, further back, while a read is in flight.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { LoggedEvent } from '../../src/shared/contracts/turn-event.js';
import { TurnLogReader } from '../../src/shared/live/turn-log-reader.js';
import { createRedis } from '../../src/shared/redis.js';

const opened: Redis[] = [];
const connect = () => {
  const redis = new Redis(inject('redisUrl'));
  opened.push(redis);
  return redis;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.quit()));
});

const text = (i: number) => JSON.stringify({ type: 'text', at: i, delta: `d${i}` });

function collector() {
  const seen: LoggedEvent[] = [];
  let resolveAt: { count: number; resolve: () => void } | undefined;
  const listener = (events: LoggedEvent[]) => {
    seen.push(...events);
    if (resolveAt && seen.length >= resolveAt.count) resolveAt.resolve();
  };
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      if (seen.length >= count) resolve();
      else resolveAt = { count, resolve };
    });
  return { seen, listener, until };
}

describe('TurnLogReader', () => {
  it('gives every follower the entries after its own position, whatever the others follow', async () => {
    const writer = connect();
    const reader = new TurnLogReader(connect(), connect());
    const key = `vtr${randomBytes(4).toString('hex')}:log`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await writer.xadd(key, '*', 'e', text(i))) ?? '');
    const fromStart = collector();
    const stopA = reader.follow(key, '0', fromStart.listener);
    await fromStart.until(5);
    // While A's read blocks at the end of the log, B joins further back, then more entries come.
    const fromMiddle = collector();
    const stopB = reader.follow(key, ids[1] ?? '0', fromMiddle.listener);
    for (let i = 5; i < 8; i += 1) await writer.xadd(key, '*', 'e', text(i));
    await Promise.all([fromStart.until(8), fromMiddle.until(6)]);
    expect(fromStart.seen.map((e) => e.event.type === 'text' && e.event.delta)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    expect(fromMiddle.seen.map((e) => e.event.type === 'text' && e.event.delta)).toEqual(['d2', 'd3', 'd4', 'd5', 'd6', 'd7']);
    stopA();
    stopB();
    await reader.close();
    await writer.del(key);
  });

  it('wakes at once for a new follower after its blocking connection was killed and reconnected', async () => {
    const writer = connect();
    const name = `vtr-reader-${randomBytes(3).toString('hex')}`;
    const blocking = createRedis(inject('redisUrl'), 'subscriber', name, { autoResendUnfulfilledCommands: false });
    // Reads block for ten minutes: only CLIENT UNBLOCK (or a failed read) lets a new follower in,
    // so a reader that lost track of its connection's id fails this test by its timeout.
    const reader = new TurnLogReader(blocking, connect(), () => undefined, 600_000);
    const first = `vtr${randomBytes(4).toString('hex')}:log`;
    const second = `vtr${randomBytes(4).toString('hex')}:log`;
    try {
      const a = collector();
      reader.follow(first, '0', a.listener);
      await writer.xadd(first, '*', 'e', text(0));
      await a.until(1);
      const oldId = await blockedReadOf(writer, name);
      await writer.client('KILL', 'ID', String(oldId));
      // The reader reads again on the new connection, then a second follower joins.
      const newId = await blockedReadOf(writer, name, oldId);
      expect(newId).not.toBe(oldId);
      const b = collector();
      reader.follow(second, '0', b.listener);
      await writer.xadd(second, '*', 'e', text(1));
      await b.until(1);
      expect(b.seen.map((e) => e.event.type === 'text' && e.event.delta)).toEqual(['d1']);
    } finally {
      blocking.disconnect();
      await reader.close();
      await writer.del(first, second);
    }
  }, 20_000);
});

/** The id of the connection `name` once it is blocked in XREAD (and is not `except`): CLIENT LIST re-read at each reply. */
async function blockedReadOf(admin: Redis, name: string, except?: number): Promise<number> {
  for (;;) {
    const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
    for (const line of list.split('\n')) {
      const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
      if (fields.name === name && fields.cmd === 'xread' && fields.flags?.includes('b') && Number(fields.id) !== except) return Number(fields.id);
    }
  }
}
