// The GPU reservation ledger in Redis, keyed by host and GPU uuid under VOXQ_PREFIX. Each card
// has four keys: `expiry` (zset lease → expiry ms, Redis clock), `mb` (hash lease → MB), `pid`
// (hash lease → holder pid) and `meta` (hash lease → JSON). Every change is one Lua script, so
// allocation is atomic across processes and hosts: the script drops expired leases, works out
// what is free (total − memory of processes that are not voxq's − live reservations) and either
// records the lease or says why not. All keys expire with the last lease, so nothing leaks.
import type { Redis } from 'ioredis';

/** Drops expired leases; leaves `now` and `reserved` (sum of live leases) in locals. */
const PURGE_AND_SUM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #expired, 500 do
  local batch = {unpack(expired, i, math.min(i + 499, #expired))}
  redis.call('ZREM', KEYS[1], unpack(batch))
  redis.call('HDEL', KEYS[2], unpack(batch))
  redis.call('HDEL', KEYS[3], unpack(batch))
  redis.call('HDEL', KEYS[4], unpack(batch))
end
local reserved = 0
local mbs = redis.call('HVALS', KEYS[2])
for i = 1, #mbs do reserved = reserved + tonumber(mbs[i]) end
`;

/** Memory of compute processes whose pid holds no lease here (and is not the caller). */
const FOREIGN = `
local own = {}
local pids = redis.call('HVALS', KEYS[3])
for i = 1, #pids do own[pids[i]] = true end
own[ARGV[6]] = true
local foreign = 0
for i = 7, #ARGV, 2 do
  if not own[ARGV[i]] then foreign = foreign + tonumber(ARGV[i + 1]) end
end
`;

/**
 * KEYS: expiry, mb, pid, meta. ARGV: leaseId, requiredMb, totalMb, ttlMs, metaJson, pid,
 * then pid, usedMb pairs of the card's compute processes.
 * A lease already held is extended (renewal); a missing one is (re)created only if it fits, so
 * holders rebuild the ledger after Redis loses it. Returns {ok, reservedMb, foreignMb, existed}.
 */
const ALLOCATE = `${PURGE_AND_SUM}${FOREIGN}
local id = ARGV[1]
local required = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local existed = redis.call('HGET', KEYS[2], id)
if not existed then
  if reserved + required > tonumber(ARGV[3]) - foreign then return {0, reserved, foreign, 0} end
  redis.call('HSET', KEYS[2], id, required)
  redis.call('HSET', KEYS[3], id, ARGV[6])
  redis.call('HSET', KEYS[4], id, ARGV[5])
  reserved = reserved + required
end
redis.call('ZADD', KEYS[1], now + ttl, id)
for i = 1, 4 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return {1, reserved, foreign, existed and 1 or 0}
`;

/** KEYS: expiry, mb, pid, meta. ARGV: leaseId, channel, message. Returns {removed, reservedMb}. */
const RELEASE = `${PURGE_AND_SUM}
local mb = redis.call('HGET', KEYS[2], ARGV[1])
if not mb then return {0, reserved} end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return {1, reserved - tonumber(mb)}
`;

/** KEYS: expiry, mb, pid, meta. Returns live leases as {id, mb, pid, meta, expiresAtMs, nowMs}. */
const SNAPSHOT = `${PURGE_AND_SUM}
local out = {}
local ids = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local id = ids[i]
  table.insert(out, {id, redis.call('HGET', KEYS[2], id) or '0', redis.call('HGET', KEYS[3], id) or '0', redis.call('HGET', KEYS[4], id) or '{}', ids[i + 1]})
end
return {now, out}
`;

export interface LedgerCard {
  host: string;
  uuid: string;
}

export interface LedgerAllocateRequest {
  card: LedgerCard;
  leaseId: string;
  requiredMb: number;
  totalMb: number;
  ttlMs: number;
  meta: Record<string, unknown>;
  pid: number;
  /** Compute processes on the card (pid, MB); the ledger counts those that hold no lease. */
  processes: readonly { pid: number; usedMb: number }[];
}

export interface LedgerAllocateResult {
  ok: boolean;
  reservedMb: number;
  foreignMb: number;
  /** The lease was already there (a renewal), rather than created now. */
  existed: boolean;
}

export interface LedgerLease {
  id: string;
  mb: number;
  pid: number;
  meta: Record<string, unknown>;
  expiresAtMs: number;
}

type Reply = (string | number | Reply)[];

const SCRIPTS = { voxqGpuAllocate: ALLOCATE, voxqGpuRelease: RELEASE, voxqGpuSnapshot: SNAPSHOT } as const;

/** The ledger's scripts as ioredis commands (EVALSHA, falling back to EVAL once per connection). */
type LedgerRedis = Redis & { [K in keyof typeof SCRIPTS]: (...args: (string | number)[]) => Promise<unknown> };

function withScripts(redis: Redis): LedgerRedis {
  const commands = redis as LedgerRedis;
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (typeof (commands as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 4, lua });
  }
  return commands;
}

export class ReservationLedger {
  private readonly redis: LedgerRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = withScripts(redis);
  }

  /** The card's keys: `<prefix>:gpu:<host>:<uuid>:{expiry,mb,pid,meta}`. */
  keys(card: LedgerCard): string[] {
    const base = `${this.prefix}:gpu:${card.host}:${card.uuid}`;
    return [`${base}:expiry`, `${base}:mb`, `${base}:pid`, `${base}:meta`];
  }

  /** Where releases are announced (`host|uuid`), so waiting workers wake. */
  get freedChannel(): string {
    return `${this.prefix}:gpu:freed`;
  }

  /** Every card any host has published (`voxq gpus` reads it). */
  get cardsKey(): string {
    return `${this.prefix}:gpu:cards`;
  }

  async allocate(request: LedgerAllocateRequest): Promise<LedgerAllocateResult> {
    const processArgs = request.processes.flatMap((p) => [String(p.pid), String(p.usedMb)]);
    const reply = (await this.redis.voxqGpuAllocate(
      ...this.keys(request.card),
      request.leaseId,
      String(request.requiredMb),
      String(request.totalMb),
      String(request.ttlMs),
      JSON.stringify(request.meta),
      String(request.pid),
      ...processArgs,
    )) as number[];
    return { ok: reply[0] === 1, reservedMb: Number(reply[1]), foreignMb: Number(reply[2]), existed: reply[3] === 1 };
  }

  /** Idempotent. Returns whether this call removed it and what stays reserved on the card. */
  async release(card: LedgerCard, leaseId: string): Promise<{ removed: boolean; reservedMb: number }> {
    const reply = (await this.redis.voxqGpuRelease(...this.keys(card), leaseId, this.freedChannel, `${card.host}|${card.uuid}`)) as number[];
    return { removed: reply[0] === 1, reservedMb: Number(reply[1]) };
  }

  /** Live leases of a card (expired ones are dropped first). */
  async snapshot(card: LedgerCard): Promise<LedgerLease[]> {
    const reply = (await this.redis.voxqGpuSnapshot(...this.keys(card))) as Reply;
    const rows = (reply[1] ?? []) as string[][];
    return rows.map(([id, mb, pid, meta, expiry]) => ({
      id: String(id),
      mb: Number(mb),
      pid: Number(pid),
      meta: parseMeta(meta),
      expiresAtMs: Number(expiry),
    }));
  }

  /** Publishes a card for `voxq gpus` (every host's cards, with when they were last seen). */
  async publishCard(card: LedgerCard, record: Record<string, unknown>): Promise<void> {
    await this.redis
      .multi()
      .hset(this.cardsKey, `${card.host}|${card.uuid}`, JSON.stringify({ ...record, seenAt: Date.now() }))
      // A card no host has published for an hour drops off the list.
      .pexpire(this.cardsKey, 3_600_000)
      .exec();
  }

  async publishedCards(): Promise<Record<string, unknown>[]> {
    const all = await this.redis.hvals(this.cardsKey);
    return all.map(parseMeta);
  }
}

function parseMeta(text: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text ?? '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
