// The GPU reservation ledger in Redis, keyed by host and GPU uuid under VOXQ_PREFIX. Each card
// has four lease keys: `expiry` (zset lease → expiry ms, Redis clock), `mb` (hash lease → MB),
// `pid` (hash lease → holder pid, shown to people: liveness is the lease's expiry, never a pid) and
// `meta` (hash lease → JSON, plus the held foreign reading `~foreign`); and two for requests
// waiting for memory: `wait` (zset request → when it queued) and `want` (hash request → its
// terms). Every change is one Lua script, so allocation is atomic across processes, containers
// and hosts: the script drops expired leases, works out what is free (total − foreign memory −
// live reservations) and either records the lease, queues the request, or says why not.
// Foreign memory is told from voxq's without pids (containers have pid namespaces of their own):
// foreign = the card's used memory − voxq's live reservations, never below 0, and held at the
// highest such reading for one lease TTL, so a reading taken while reservations are not yet
// filled (a model still loading, a stale reading) does not hide it. See `FOREIGN`. Memory that
// frees (a release, an expiry) goes to the waiting requests in the same script, oldest first,
// skipping those that do not fit yet (first fit), unless one has waited past its `strictAt`:
// then nothing passes it. The waiter hears of its lease on its own channel. All keys expire
// with the last lease or waiter, so nothing leaks.
import { isCluster, type RedisClient } from '../redis.js';

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

/**
 * Hands free memory to waiting requests (see the header); expired waiters are dropped. Needs
 * \`now\` and \`reserved\`; updates \`reserved\`. Returns whether a waiter that must not be passed
 * is still short (\`blocked\`): then no newcomer may take memory either. A waiter is stored as
 * "mb|limit|deadline|strictAt|ttl|pid|channel|meta" (limit: total − foreign when it queued).
 */
const GRANT = `
local function grant()
  local ids = redis.call('ZRANGE', KEYS[5], 0, -1)
  if #ids == 0 then return false end
  local wants = redis.call('HMGET', KEYS[6], unpack(ids))
  local blocked = false
  local notices = {}
  local longest = 0
  for i, id in ipairs(ids) do
    local raw = wants[i]
    local mb, limit, deadline, strictAt = string.match(raw or '', '^(%d+)|(%-?%d+)|(%d+)|(%d+)|')
    mb = tonumber(mb)
    if not mb or tonumber(deadline) <= now then
      redis.call('ZREM', KEYS[5], id)
      redis.call('HDEL', KEYS[6], id)
    elseif reserved + mb <= tonumber(limit) then
      local ttl, pid, channel, meta = string.match(raw, '^[^|]*|[^|]*|[^|]*|[^|]*|(%d+)|([^|]*)|([^|]*)|(.*)$')
      ttl = tonumber(ttl)
      redis.call('HSET', KEYS[2], id, mb)
      redis.call('HSET', KEYS[3], id, pid)
      redis.call('HSET', KEYS[4], id, meta)
      redis.call('ZADD', KEYS[1], now + ttl, id)
      redis.call('ZREM', KEYS[5], id)
      redis.call('HDEL', KEYS[6], id)
      reserved = reserved + mb
      longest = math.max(longest, ttl)
      notices[channel] = (notices[channel] and (notices[channel] .. '\\n') or '') .. id
    elseif now >= tonumber(strictAt) then
      blocked = true
      break
    end
  end
  if longest > 0 then
    for i = 1, 4 do
      if redis.call('PTTL', KEYS[i]) < longest then redis.call('PEXPIRE', KEYS[i], longest) end
    end
  end
  for channel, leaseIds in pairs(notices) do redis.call('PUBLISH', channel, leaseIds) end
  return blocked
end
`;

/**
 * Foreign memory: the card's used memory (ARGV[11], '' when nvidia-smi cannot say) beyond voxq's
 * live reservations (\`reserved\`), never below 0. voxq's memory is taken to be what it reserved:
 * what a voxq process uses beyond its reservations (its CUDA context) counts as foreign, so it is
 * counted once; what a stranger takes while voxq's reservations are not yet filled is seen once
 * they are. The highest reading is held for one lease TTL (ARGV[4]) in \`meta\`'s \`~foreign\`.
 */
const FOREIGN = `
local foreign = 0
local used = tonumber(ARGV[11])
local window = tonumber(ARGV[4])
local heldMb, heldAt = string.match(redis.call('HGET', KEYS[4], '~foreign') or '', '^(%d+)|(%d+)$')
local held = heldMb and (now - tonumber(heldAt) < window) and tonumber(heldMb) or nil
if used then
  foreign = math.max(0, used - reserved)
  if held and held > foreign then
    foreign = held
  elseif foreign > 0 then
    redis.call('HSET', KEYS[4], '~foreign', string.format('%.0f|%.0f', foreign, now))
    if redis.call('PTTL', KEYS[4]) < window then redis.call('PEXPIRE', KEYS[4], window) end
  elseif heldMb then
    redis.call('HDEL', KEYS[4], '~foreign')
  end
elseif held then
  foreign = held
end
`;

/**
 * KEYS: expiry, mb, pid, meta, wait, want. ARGV: leaseId, requiredMb, totalMb, ttlMs, metaJson,
 * pid, mode ('renew', 'now' or 'queue'), then for 'queue' waitMs, strictAfterMs and the channel
 * that hears of the grant (else '0', '0', ''), then the card's used MB ('' unknown).
 * A lease already held is extended (renewal); a missing one is (re)created only if it fits and
 * no waiter that must not be passed is short ('renew' ignores waiters: holders rebuild the ledger
 * after Redis loses it). Otherwise 'queue' queues the request when it could fit at all.
 * Returns {status (1 granted, 2 queued, 0 refused), reservedMb, foreignMb, existed}.
 */
const ALLOCATE = `${PURGE_AND_SUM}${GRANT}${FOREIGN}
local mode = ARGV[7]
local id = ARGV[1]
local required = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local limit = tonumber(ARGV[3]) - foreign
local blocked = grant()
local existed = redis.call('HGET', KEYS[2], id)
if not existed then
  -- A 0 MB lease (a worker saying which card it serves) never waits behind anyone.
  if reserved + required > limit or (blocked and mode ~= 'renew' and required > 0) then
    if mode ~= 'queue' or required > limit then return {0, reserved, foreign, 0} end
    local waitMs = tonumber(ARGV[8])
    redis.call('ZADD', KEYS[5], now, id)
    local want = {required, limit, now + waitMs, now + tonumber(ARGV[9]), ttl}
    for i = 1, #want do want[i] = string.format('%.0f', want[i]) end
    redis.call('HSET', KEYS[6], id, table.concat(want, '|') .. '|' .. ARGV[6] .. '|' .. ARGV[10] .. '|' .. ARGV[5])
    for i = 5, 6 do
      if redis.call('PTTL', KEYS[i]) < waitMs then redis.call('PEXPIRE', KEYS[i], waitMs) end
    end
    return {2, reserved, foreign, 0}
  end
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

/**
 * KEYS: expiry, mb, pid, meta, wait, want. ARGV: leaseId. The freed memory goes to waiters at once.
 * Returns {removed, reservedMb}.
 */
const RELEASE = `${PURGE_AND_SUM}${GRANT}
local mb = redis.call('HGET', KEYS[2], ARGV[1])
if not mb then
  grant()
  return {0, reserved}
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
reserved = reserved - tonumber(mb)
grant()
return {1, reserved}
`;

/**
 * KEYS: expiry, mb, pid, meta, wait, want. ARGV: leaseId. Withdraws a waiting request, after one
 * last hand-over (memory may have come back by expiry, which no release announced); when it was
 * granted, says so (the caller holds that lease). Returns 1 granted, 0 withdrawn or gone.
 */
const WITHDRAW = `${PURGE_AND_SUM}${GRANT}
grant()
if redis.call('ZREM', KEYS[5], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[6], ARGV[1])
  grant()
  return 0
end
return redis.call('HEXISTS', KEYS[2], ARGV[1])
`;

/**
 * KEYS: expiry, mb, pid, meta, wait, want. ARGV: ttlMs (the foreign reading's window). Returns
 * {nowMs, live leases as {id, mb, pid, meta, expiresAtMs}, held foreign MB (-1: none), waiting requests}.
 */
const SNAPSHOT = `${PURGE_AND_SUM}
local heldMb, heldAt = string.match(redis.call('HGET', KEYS[4], '~foreign') or '', '^(%d+)|(%d+)$')
local held = -1
if heldMb and now - tonumber(heldAt) < tonumber(ARGV[1]) then held = tonumber(heldMb) end
local out = {}
local ids = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local id = ids[i]
  table.insert(out, {id, redis.call('HGET', KEYS[2], id) or '0', redis.call('HGET', KEYS[3], id) or '0', redis.call('HGET', KEYS[4], id) or '{}', ids[i + 1]})
end
return {now, out, held, redis.call('ZCARD', KEYS[5])}
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
  /** What the card uses now, voxq's processes included (null: unknown); foreign = this − reservations. */
  usedMb: number | null;
  /** A renewal: extend the lease, or rebuild it if it fits (waiters aside). */
  renew?: boolean;
  /** When short, wait on the card's list rather than be refused (if the card could ever hold it). */
  queue?: LedgerQueueRequest;
}

export interface LedgerQueueRequest {
  /** The request leaves the list after this long (its holder withdraws it first). */
  waitMs: number;
  /** After this long nothing that queued later (or arrives) is served before it. */
  strictAfterMs: number;
  /** Where the lease id is published when memory is handed over. */
  channel: string;
}

export interface LedgerAllocateResult {
  ok: boolean;
  /** Not granted now, but waiting on the card's list (see LedgerQueueRequest). */
  queued: boolean;
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

export interface LedgerCardState {
  leases: LedgerLease[];
  /** The highest foreign reading of the window (see FOREIGN); null when none is held. */
  heldForeignMb: number | null;
  /** Requests waiting on the card's list. */
  waiting: number;
}

type Reply = (string | number | Reply)[];

const SCRIPTS = { voxqGpuAllocate: ALLOCATE, voxqGpuRelease: RELEASE, voxqGpuWithdraw: WITHDRAW, voxqGpuSnapshot: SNAPSHOT } as const;

/** The ledger's scripts as ioredis commands (EVALSHA, falling back to EVAL once per connection). */
type LedgerRedis = RedisClient & { [K in keyof typeof SCRIPTS]: (...args: (string | number)[]) => Promise<unknown> };

function withScripts(redis: RedisClient): LedgerRedis {
  const commands = redis as LedgerRedis;
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (typeof (commands as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 6, lua });
  }
  return commands;
}

export class ReservationLedger {
  private readonly redis: LedgerRedis;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.redis = withScripts(redis);
  }

  /** The card's keys: `<prefix>:gpu:<host>:<uuid>:{expiry,mb,pid,meta,wait,want}`. */
  keys(card: LedgerCard): string[] {
    // One script reads and writes all six: on a Redis Cluster a hash tag per card keeps them in one slot.
    const base = isCluster(this.redis) ? `${this.prefix}:gpu:{${card.host}:${card.uuid}}` : `${this.prefix}:gpu:${card.host}:${card.uuid}`;
    return [`${base}:expiry`, `${base}:mb`, `${base}:pid`, `${base}:meta`, `${base}:wait`, `${base}:want`];
  }

  /** A channel of its own for a process's grants (`<prefix>:gpu:granted:<host>:<pid>:<tag>`). */
  grantChannel(host: string, tag: string): string {
    return `${this.prefix}:gpu:granted:${host}:${process.pid}:${tag}`;
  }

  /** Every card any host has published (`voxq gpus` reads it). */
  get cardsKey(): string {
    return `${this.prefix}:gpu:cards`;
  }

  async allocate(request: LedgerAllocateRequest): Promise<LedgerAllocateResult> {
    const reply = (await this.redis.voxqGpuAllocate(
      ...this.keys(request.card),
      request.leaseId,
      String(request.requiredMb),
      String(request.totalMb),
      String(request.ttlMs),
      JSON.stringify(request.meta),
      String(request.pid),
      request.renew ? 'renew' : request.queue ? 'queue' : 'now',
      ...(request.queue ? [String(request.queue.waitMs), String(request.queue.strictAfterMs), request.queue.channel] : ['0', '0', '']),
      request.usedMb === null ? '' : String(Math.round(request.usedMb)),
    )) as number[];
    return { ok: reply[0] === 1, queued: reply[0] === 2, reservedMb: Number(reply[1]), foreignMb: Number(reply[2]), existed: reply[3] === 1 };
  }

  /** Takes a request off the card's wait list: true when it had been granted meanwhile (the lease is the caller's). */
  async withdraw(card: LedgerCard, leaseId: string): Promise<boolean> {
    return (await this.redis.voxqGpuWithdraw(...this.keys(card), leaseId)) === 1;
  }

  /** Idempotent. Returns whether this call removed it and what stays reserved on the card. */
  async release(card: LedgerCard, leaseId: string): Promise<{ removed: boolean; reservedMb: number }> {
    const reply = (await this.redis.voxqGpuRelease(...this.keys(card), leaseId)) as number[];
    return { removed: reply[0] === 1, reservedMb: Number(reply[1]) };
  }

  /** Live leases of a card (expired ones are dropped first). */
  async snapshot(card: LedgerCard): Promise<LedgerLease[]> {
    return (await this.cardState(card, 0)).leases;
  }

  /**
   * A card's live leases, the foreign reading held within `windowMs` (null: none) and how many
   * requests wait on its list.
   */
  async cardState(card: LedgerCard, windowMs: number): Promise<LedgerCardState> {
    const reply = (await this.redis.voxqGpuSnapshot(...this.keys(card), String(windowMs))) as Reply;
    const rows = (reply[1] ?? []) as string[][];
    const held = Number(reply[2] ?? -1);
    return {
      leases: rows.map(([id, mb, pid, meta, expiry]) => ({
        id: String(id),
        mb: Number(mb),
        pid: Number(pid),
        meta: parseMeta(meta),
        expiresAtMs: Number(expiry),
      })),
      heldForeignMb: held >= 0 ? held : null,
      waiting: Number(reply[3] ?? 0),
    };
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
