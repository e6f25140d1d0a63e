// Awaiting a turn while the database is down: the end event arrives, the record cannot be read
// yet — the wait goes on until the record answers (bounded by its timeout), instead of failing
// a caller whose turn completed.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Turn } from '../../src/shared/contracts/turn.js';
import { LiveTurns } from '../../src/shared/live/live-turns.js';
import { TurnLogReader } from '../../src/shared/live/turn-log-reader.js';
import { createRedis } from '../../src/shared/redis.js';
import { MemoryTurnStore } from '../../src/shared/store/memory-turn-store.js';
import { TurnWaiter } from '../../src/producers/sdk/turn-waiter.js';
import { makeTurn } from '../contracts/turn-store.contract.js';

const opened: Redis[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.quit()));
});

/** A turn store whose reads fail as a dropped MongoDB connection does while `down()` says so; `onRead` hears each read first. */
class FlakyReads extends MemoryTurnStore {
  constructor(
    private readonly down: () => boolean,
    private readonly onRead: () => void,
  ) {
    super();
  }

  override async get(turnId: string): Promise<Turn | null> {
    const failing = this.down();
    this.onRead();
    if (failing) throw new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017');
    return super.get(turnId);
  }
}

describe('TurnWaiter', () => {
  it('waits out a database that is down when the end arrives, then answers with the finished turn', async () => {
    const url = inject('redisUrl');
    const redis = new Redis(url);
    const blocking = createRedis(url, 'subscriber', undefined, { autoResendUnfulfilledCommands: false });
    opened.push(redis);
    const prefix = `vtw${randomBytes(4).toString('hex')}`;
    const live = new LiveTurns(redis, { prefix, ttlMs: 60_000, maxLogEntries: 100 });
    // Down from the end on, until the first read it refuses: the waiter's read at the end event.
    let down = false;
    let refused = 0;
    const turns = new FlakyReads(
      () => down,
      () => {
        if (down) {
          refused += 1;
          down = false;
        }
      },
    );
    const reader = new TurnLogReader(blocking, redis);
    const waiter = new TurnWaiter(reader, live, turns);
    const turn = makeTurn();
    const ref = { turnId: turn.turnId, sessionId: turn.sessionId };
    try {
      await live.open(turn);
      await turns.create(turn);
      await turns.complete(turn.turnId, new Date());
      down = true;
      const waited = waiter.wait(turn.turnId, 20_000, undefined, turn.sessionId);
      await live.claimEnd(ref, 'completed');
      await live.writeEnd(ref, { type: 'end', at: Date.now(), status: 'completed' });
      const finished = await waited;
      expect(finished.status).toBe('completed');
      expect(refused).toBe(1);
    } finally {
      blocking.disconnect();
      await reader.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
});
