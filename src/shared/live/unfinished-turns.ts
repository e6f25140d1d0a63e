// Every accepted turn that has not ended, in one sorted set by enqueue time (member
// `<sessionId> <turnId>`): what the reconciler looks at. Written beside the turn's own keys (a
// single-key command, so it needs no shared slot), removed once the turn's end is written.
import type { RedisClient } from '../redis.js';
import type { TurnRef } from './live-turns.js';

export class UnfinishedTurns {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:unfinished-turns`;
  }

  async add(ref: TurnRef, at: number): Promise<void> {
    // A day past its last addition the set expires (its turns' own state does too).
    await this.redis.multi().zadd(this.key, 'NX', at, `${ref.sessionId} ${ref.turnId}`).pexpire(this.key, 24 * 3600_000).exec();
  }

  /** Where a turn's keys are, for a reader that knows only its id (kept as long as a running turn's state). */
  async rememberSession(ref: TurnRef, ttlMs: number): Promise<void> {
    await this.redis.set(this.sessionKey(ref.turnId), ref.sessionId, 'PX', ttlMs);
  }

  async sessionOf(turnId: string): Promise<string | null> {
    return this.redis.get(this.sessionKey(turnId));
  }

  private sessionKey(turnId: string): string {
    return `${this.prefix}:turn-session:${turnId}`;
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
