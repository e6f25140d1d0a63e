// Every accepted turn that has not ended, in one sorted set by enqueue time (member
// `<sessionId> <turnId>`): what the reconciler looks at. Written beside the turn's own keys (a
// single-key command, so it needs no shared slot), removed once the turn's end is written.
import type { Redis } from 'ioredis';
import type { TurnRef } from './live-turns.js';

export class UnfinishedTurns {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:unfinished-turns`;
  }

  async add(ref: TurnRef, at: number): Promise<void> {
    await this.redis.zadd(this.key, 'NX', at, `${ref.sessionId} ${ref.turnId}`);
  }

  async remove(ref: TurnRef): Promise<void> {
    await this.redis.zrem(this.key, `${ref.sessionId} ${ref.turnId}`);
  }

  /** Turns enqueued before `before` that have not ended, oldest first. */
  async olderThan(before: number, limit: number): Promise<TurnRef[]> {
    const members = await this.redis.zrangebyscore(this.key, '-inf', before, 'LIMIT', 0, limit);
    return members.flatMap((member) => {
      const [sessionId, turnId] = member.split(' ');
      return sessionId && turnId ? [{ sessionId, turnId }] : [];
    });
  }
}
