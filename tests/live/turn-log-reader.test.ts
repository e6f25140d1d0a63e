// Many followers of turn logs on one blocking connection: each gets exactly the entries after
// its own position, in order — also one that joins, further back, while a read is in flight.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { LoggedEvent } from '../../src/shared/contracts/turn-event.js';
import { TurnLogReader } from '../../src/shared/live/turn-log-reader.js';

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
});
