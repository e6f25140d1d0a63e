// The provider's request limit as a sliding window shared by every worker host: a sorted set of
// the calls started in the last window (score = when), read and written by one Lua script on
// Redis's clock, so no window ever holds more than the limit and the provider has no reason to
// answer 429. Two kinds of caller: a live turn may use the whole limit and starts at once while
// the window has room; batch work holds at most the limit minus the live reserve, leaves the
// next free slot to a live turn already waiting for one, and keeps off the provider while a
// batch 429's retry-after runs (a backoff that live turns ignore). A refused caller is told how
// long until a slot frees for it; it waits in its queue and asks again. Refused batch calls are
// told different times, one per slot as the window's calls leave it (a ticket each, up to two
// windows ahead), so a long batch queue does not wake all at once for every slot.
import type { RedisClient } from '../redis.js';
import type { SttCaller } from './stt-limits.js';

/**
 * KEYS: all calls, batch calls, the batch backoff, live callers waiting (score = until when
 * their claim on the next free slot holds), batch callers waiting (score = their ticket: when
 * they come back). ARGV: now ('' → Redis's clock), window, limit, batch limit, caller, member,
 * call id, how long a waiting caller's claim or ticket outlasts its time, a random number in [0, 1).
 * Returns 0 (granted, recorded) or the milliseconds until a slot frees for this caller.
 */
const ACQUIRE = `
local all, batch, backoff, waiting, tickets = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
if not now then
  if redis.replicate_commands then redis.replicate_commands() end -- Redis < 7: TIME before writes
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local batchLimit = tonumber(ARGV[4])
local caller = ARGV[5]
local member = ARGV[6]
local callId = ARGV[7]
local graceMs = tonumber(ARGV[8])
local random = tonumber(ARGV[9])
redis.call('ZREMRANGEBYSCORE', all, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', batch, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', waiting, '-inf', now)
redis.call('ZREMRANGEBYSCORE', tickets, '-inf', now - graceMs)
local total = redis.call('ZCARD', all)
-- when the (i + 1)-th oldest call of a set leaves the window
local function freedAt(key, i)
  local entry = redis.call('ZRANGE', key, i, i, 'WITHSCORES')
  if #entry == 0 then return now end
  return tonumber(entry[2]) + window
end
local function record(keys)
  for _, key in ipairs(keys) do
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window)
  end
end
if caller == 'live' then
  if limit <= 0 or total < limit then
    if limit > 0 then record({ all }) end
    redis.call('ZREM', waiting, callId)
    return 0
  end
  local at = freedAt(all, total - limit)
  redis.call('ZADD', waiting, at + graceMs, callId)
  redis.call('PEXPIRE', waiting, window + graceMs)
  return math.max(1, at - now)
end
redis.call('ZREM', tickets, callId)
local wait = redis.call('PTTL', backoff)
if wait < 0 then wait = 0 end
if limit <= 0 then return wait end
local batchCount = redis.call('ZCARD', batch)
local claims = redis.call('ZCARD', waiting)
if wait == 0 and batchCount < batchLimit and total + claims < limit then
  record({ all, batch })
  return 0
end
if batchCount >= batchLimit then wait = math.max(wait, freedAt(batch, batchCount - batchLimit) - now) end
if total + claims >= limit then
  -- room once enough calls leave the window, or (a live turn not coming back) once the first claim lapses
  local at = math.huge
  local i = total + claims - limit
  if i < total then at = freedAt(all, i) end
  if claims > 0 then
    local lapse = tonumber(redis.call('ZRANGE', waiting, 0, 0, 'WITHSCORES')[2])
    if total >= limit then lapse = math.max(lapse, freedAt(all, total - limit)) end
    at = math.min(at, lapse)
  end
  wait = math.max(wait, at - now)
end
-- This caller's turn among the batch callers already waiting: the slot freed after theirs. Past
-- two windows of tickets, a time at random in the window after (no ticket: it asks again then).
local ahead = redis.call('ZCARD', tickets)
local horizon = 2 * batchLimit
local ticketed = ahead < horizon
if not ticketed then ahead = horizon + math.floor(random * batchLimit) end
local turn
if batchCount > 0 then
  local i = math.max(0, batchCount - batchLimit) + ahead
  turn = freedAt(batch, i % batchCount) + window * math.floor(i / batchCount)
else
  turn = now + math.floor(ahead * window / batchLimit)
end
wait = math.max(1, wait, turn - now)
if ticketed then
  redis.call('ZADD', tickets, now + wait, callId)
  redis.call('PEXPIRE', tickets, 3 * window + graceMs)
end
return wait
`;

/** KEYS: the batch backoff. ARGV: its length. Only ever lengthens it. */
const BACK_OFF = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`;

export interface RequestWindowOptions {
  redis: RedisClient;
  /** Redis key prefix (VOXQ_PREFIX). */
  prefix: string;
  /** Calls any window may hold; 0: no limit (batch work still keeps off the provider during a 429 backoff). */
  limit: number;
  /** Of the limit, what batch work leaves to live turns: batch holds at most `limit − liveReserve`, at least 1. */
  liveReserve: number;
  /**
   * Default 60 s plus {@link DEFAULT_MARGIN_MS}: calls reach the provider a little after they
   * are counted here, and not all equally late. Tests shorten it.
   */
  windowMs?: number;
  /**
   * How long a waiting caller's claim (live) or ticket (batch) outlasts its time: the time to come
   * back from its queue. Default 2 s.
   */
  graceMs?: number;
  /** Default: Redis's clock (one clock for every host). */
  now?: () => number;
}

/** A granted call, or how long to wait for one. */
export interface RequestSlot {
  /** 0 when granted; otherwise wait this long and ask again. */
  waitMs: number;
  /** Gives the slot back: the call never reached the provider. */
  release(): Promise<void>;
}

interface WindowCommands {
  voxqAcquireRequest?(all: string, batch: string, backoff: string, waiting: string, tickets: string, ...args: (string | number)[]): Promise<number>;
  voxqBackOffBatch?(key: string, ms: number): Promise<number>;
}

/** Slack for the spread between when a call is counted here and when the provider counts it. */
export const DEFAULT_MARGIN_MS = 1_000;
const PROVIDER_WINDOW_MS = 60_000;

export class RequestWindow {
  readonly key: string;
  readonly batchKey: string;
  readonly backoffKey: string;
  readonly waitingKey: string;
  readonly ticketsKey: string;
  /** Every key the window keeps (each expires on its own once idle). */
  readonly keys: readonly string[];
  /** The most calls batch work may hold in a window. */
  readonly batchLimit: number;
  private readonly windowMs: number;

  constructor(private readonly options: RequestWindowOptions) {
    // One script reads and writes all five: one hash tag keeps them in one slot on a Redis Cluster.
    const head = `${options.prefix}:{stt-requests}`;
    this.key = `${head}:requests`;
    this.batchKey = `${head}:requests:batch`;
    this.backoffKey = `${head}:batch-backoff`;
    this.waitingKey = `${head}:live-waiting`;
    this.ticketsKey = `${head}:batch-waiting`;
    this.keys = [this.key, this.batchKey, this.backoffKey, this.waitingKey, this.ticketsKey];
    this.windowMs = options.windowMs ?? PROVIDER_WINDOW_MS + DEFAULT_MARGIN_MS;
    this.batchLimit = options.limit > 0 ? Math.max(1, options.limit - Math.max(0, options.liveReserve)) : 0;
    const redis = options.redis as unknown as WindowCommands;
    if (typeof redis.voxqAcquireRequest !== 'function') options.redis.defineCommand('voxqAcquireRequest', { numberOfKeys: 5, lua: ACQUIRE });
    if (typeof redis.voxqBackOffBatch !== 'function') options.redis.defineCommand('voxqBackOffBatch', { numberOfKeys: 1, lua: BACK_OFF });
  }

  /** Asks for a call slot for `callId` (a live turn's stage or a batch chunk). */
  async acquire(caller: SttCaller, callId: string): Promise<RequestSlot> {
    const { redis, limit } = this.options;
    if (caller === 'live' && limit <= 0) return { waitMs: 0, release: () => Promise.resolve() };
    const member = `${caller}|${callId}|${Math.random().toString(36).slice(2, 10)}`;
    const acquireCommand = (redis as unknown as Required<WindowCommands>).voxqAcquireRequest.bind(redis);
    const now = this.options.now?.() ?? '';
    const keys = [this.key, this.batchKey, this.backoffKey, this.waitingKey, this.ticketsKey] as const;
    const answer = Number(await acquireCommand(...keys, now, this.windowMs, limit, this.batchLimit, caller, member, callId, this.options.graceMs ?? 2_000, Math.random()));
    return {
      waitMs: answer,
      release: async () => {
        if (answer !== 0 || limit <= 0) return;
        await Promise.all((caller === 'batch' ? [this.key, this.batchKey] : [this.key]).map((key) => redis.zrem(key, member)));
      },
    };
  }

  /** A batch call met the provider's 429: batch work keeps off it for `ms` (live turns do not). */
  async backOffBatch(ms: number): Promise<void> {
    const redis = this.options.redis as unknown as Required<WindowCommands>;
    await redis.voxqBackOffBatch.call(this.options.redis, this.backoffKey, Math.max(1, Math.ceil(ms)));
  }

  /** Calls counted in the current window, in all and by batch work. */
  async counts(): Promise<{ total: number; batch: number }> {
    const { redis } = this.options;
    const now = this.options.now?.() ?? (await redisNow(redis));
    const from = `(${now - this.windowMs}`;
    const [total, batch] = await Promise.all([redis.zcount(this.key, from, '+inf'), redis.zcount(this.batchKey, from, '+inf')]);
    return { total, batch };
  }
}

async function redisNow(redis: RedisClient): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
