// Per-key quotas in Redis, so every API instance counts against the same limits:
// - requests per minute: a sliding window (a sorted set of the key's requests in the last 60 s,
//   on Redis's clock); over it → 429 `rate_limited`, retry-after = until the oldest one leaves.
// - turns in flight: a sorted set of the turn ids the key submitted that may not have ended
//   (score: when submitted). A slot is taken atomically before the turn is enqueued; when the set
//   is full its ended turns are pruned (their status read through the SDK) and the slot asked for
//   again; still full → 429 `too_many_turns`.
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../shared/redis.js';
import type { ApiKeyRecord } from '../../shared/ports/api-key-store.js';
import { tooManyRequests } from './http-errors.js';

const WINDOW_MS = 60_000;
/** An in-flight set unused this long goes away (a turn still running after it counts no more). */
const IN_FLIGHT_TTL_MS = 24 * 3600 * 1000;
/** A slot taken whose turn the store does not know yet (its enqueue in progress) is kept this long. */
const ENQUEUE_GRACE_MS = 60_000;
/** What a client is told to wait when its turns in flight are full: turns end on their own time. */
const TURN_RETRY_AFTER_MS = 1000;

/** KEYS: the window. ARGV: limit, window ms, a unique member. Returns 0 (admitted) or ms until a slot frees. */
const ADMIT = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

/** KEYS: the in-flight set. ARGV: limit, turn id, ttl ms. Returns 2 (already counted), 1 (taken) or 0 (full). */
const RESERVE = `
if redis.replicate_commands then redis.replicate_commands() end
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 2 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

/** A turn's state as the quota needs it: ended, still going, or not (yet) in the store. */
export type TurnState = 'ended' | 'running' | 'unknown';

export interface TurnSlot {
  /** Gives the slot back (the enqueue failed); a no-op when the turn was counted already. */
  release(): Promise<void>;
}

export class KeyQuotas {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Counts one request of the key; 429 `rate_limited` over its requests per minute. */
  async admitRequest(record: ApiKeyRecord): Promise<void> {
    const limit = record.quota?.requestsPerMinute;
    if (limit === undefined) return;
    const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const waitMs = Number(await this.redis.eval(ADMIT, 1, this.keyOf('rpm', record.keyId), limit, WINDOW_MS, member));
    if (waitMs > 0) throw tooManyRequests('rate_limited', `this API key may make ${limit} requests per minute: retry after the retry-after header's seconds`, waitMs);
  }

  /**
   * Takes a turn-in-flight slot for `turnId`; 429 `too_many_turns` when the key has its maximum
   * of turns that have not ended. `stateOf` reads a turn's state to prune ended ones.
   */
  async reserveTurn(record: ApiKeyRecord, turnId: string, stateOf: (turnId: string) => Promise<TurnState>): Promise<TurnSlot> {
    const limit = record.quota?.maxTurnsInFlight;
    if (limit === undefined) return { release: () => Promise.resolve() };
    const key = this.keyOf('in-flight', record.keyId);
    let taken = await this.reserve(key, limit, turnId);
    if (taken === 0) {
      await this.prune(key, stateOf);
      taken = await this.reserve(key, limit, turnId);
    }
    if (taken === 0) {
      throw tooManyRequests('too_many_turns', `this API key may have ${limit} turns in flight: wait for one to end (GET /v1/turns/{id}/wait) and submit again`, TURN_RETRY_AFTER_MS);
    }
    return { release: async () => void (taken === 1 ? await this.redis.zrem(key, turnId) : 0) };
  }

  private async reserve(key: string, limit: number, turnId: string): Promise<number> {
    return Number(await this.redis.eval(RESERVE, 1, key, limit, turnId, IN_FLIGHT_TTL_MS));
  }

  /** Drops the ended turns, and slots whose turn never reached the store. */
  private async prune(key: string, stateOf: (turnId: string) => Promise<TurnState>): Promise<void> {
    const [entries, [seconds, micros]] = await Promise.all([this.redis.zrange(key, 0, -1, 'WITHSCORES'), this.redis.time()]);
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000); // the clock the scores are on
    const gone: string[] = [];
    await Promise.all(
      pairs(entries).map(async ([turnId, takenAtMs]) => {
        const state = await stateOf(turnId);
        if (state === 'ended' || (state === 'unknown' && now - takenAtMs > ENQUEUE_GRACE_MS)) gone.push(turnId);
      }),
    );
    if (gone.length > 0) await this.redis.zrem(key, ...gone);
  }

  private keyOf(kind: 'rpm' | 'in-flight', keyId: string): string {
    return `${this.prefix}:api:${kind}:${keyId}`;
  }
}

function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? '', Number(flat[i + 1])]);
  return out;
}
