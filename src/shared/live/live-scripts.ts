// The Lua scripts that keep a turn's live state and event log consistent across hosts. Each
// runs atomically in Redis, so "nothing after the end" is certain: every write checks the end
// claim (`ended`) in the same step as it writes. KEYS[1] is always the turn's state hash,
// KEYS[2] its log stream (src/shared/live/live-keys.ts: one hash tag, one slot).
import type { RedisClient } from '../redis.js';

// Milestones are stamped on Redis's clock, so stamps written by different hosts stay in order.
const TOUCH = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function touch(ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
`;

/**
 * ARGV: maxLen, ttlMs, turnJson, acceptedEventJson, turnId, pending ('1': the producer has yet
 * to confirm it accepted the turn; see ACCEPT). KEYS[3] session turns, KEYS[4] session sequence.
 * 1 = opened, 0 = already open.
 */
const OPEN = `${TOUCH}
if redis.call('HSETNX', KEYS[1], 'turn', ARGV[3]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'next', 0)
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'pending', 1) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[4])
local seq = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[3], 'NX', seq, ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
touch(ARGV[2])
return 1
`;

/** ARGV: maxLen, ttlMs, eventJson, markField ('' for none), nowMs. The stream id, or nil once the turn has ended. */
const APPEND = `${TOUCH}
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSETNX', KEYS[1], ARGV[4], nowMs()) end
touch(ARGV[2])
return id
`;

/**
 * ARGV: field, value, ttlMs, counterField ('' for none), counterValue, markField ('' for none), nowMs.
 * First write wins. {0} once the turn has ended, else {1, the stored value}.
 */
const PUT = `${TOUCH}
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return {0} end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] ~= '' then
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0')
  if tonumber(ARGV[5]) > current then redis.call('HSET', KEYS[1], ARGV[4], ARGV[5]) end
end
if ARGV[6] ~= '' then redis.call('HSETNX', KEYS[1], ARGV[6], nowMs()) end
touch(ARGV[3])
return {1, redis.call('HGET', KEYS[1], ARGV[1])}
`;

/**
 * One sentence's chunk, delivered in index order: held as pending until every earlier one is
 * in the log, then appended with them. ARGV: maxLen, ttlMs, index, eventJson, metaJson, nowMs.
 * {-1, 0} once ended; else {duplicate (0|1), complete (0|1: every sentence is in the log)}.
 */
const DELIVER = `${TOUCH}
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return {-1, 0} end
local index = tonumber(ARGV[3])
local nextIndex = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local duplicate = 0
if index < nextIndex or redis.call('HEXISTS', KEYS[1], 'p:' .. index) == 1 then
  duplicate = 1
else
  redis.call('HSET', KEYS[1], 'p:' .. index, ARGV[4], 'm:' .. index, ARGV[5])
end
while true do
  local pending = redis.call('HGET', KEYS[1], 'p:' .. nextIndex)
  if not pending then break end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', pending)
  redis.call('HDEL', KEYS[1], 'p:' .. nextIndex)
  if nextIndex == 0 then redis.call('HSETNX', KEYS[1], 't:firstAudio', nowMs()) end
  nextIndex = nextIndex + 1
end
redis.call('HSET', KEYS[1], 'next', nextIndex)
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
local complete = 0
if total >= 0 and nextIndex >= total then
  complete = 1
  redis.call('HSETNX', KEYS[1], 't:lastAudio', nowMs())
end
touch(ARGV[2])
return {duplicate, complete}
`;

/** ARGV: total, ttlMs, nowMs. -1 once ended, 1 when every sentence is already in the log, else 0. */
const SET_TOTAL = `${TOUCH}
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return -1 end
redis.call('HSET', KEYS[1], 'total', ARGV[1])
touch(ARGV[2])
if tonumber(redis.call('HGET', KEYS[1], 'next') or '0') >= tonumber(ARGV[1]) then
  redis.call('HSETNX', KEYS[1], 't:lastAudio', nowMs())
  return 1
end
return 0
`;

/**
 * ARGV: status, ttlMs, detail (JSON: what finishing this end needs, e.g. the failure), gated
 * ('1': a worker's completion or failure). 1 when this status holds the end (claimed now or
 * before by the same status), 0 when another does, 2 when a gated end waits for the producer to
 * confirm the turn was accepted (kept as `endDue`, the first one wins; ACCEPT hands it back).
 */
const CLAIM_END = `${TOUCH}
local current = redis.call('HGET', KEYS[1], 'ended')
if not current and ARGV[4] == '1' and redis.call('HEXISTS', KEYS[1], 'pending') == 1 then
  if redis.call('HSETNX', KEYS[1], 'endDue', ARGV[1]) == 1 then redis.call('HSET', KEYS[1], 'endDueDetail', ARGV[3]) end
  if redis.call('HGET', KEYS[1], 'endDue') == ARGV[1] then return 2 end
  return 0
end
if not current then
  redis.call('HSET', KEYS[1], 'ended', ARGV[1], 'endDetail', ARGV[3])
  touch(ARGV[2])
  return 1
end
if current == ARGV[1] then return 1 end
return 0
`;

/**
 * The end event, once; then the turn leaves its session's unfinished set and its input audio
 * is dropped. KEYS[3] session turns, KEYS[4] input. ARGV: maxLen, ttlMs, eventJson, turnId.
 * {0} when already written, else {1, the session's next unfinished turn or false}.
 */
const WRITE_END = `${TOUCH}
if redis.call('HSETNX', KEYS[1], 'endWritten', 1) == 0 then return {0} end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('DEL', KEYS[4])
touch(ARGV[2])
local following = redis.call('ZRANGE', KEYS[3], 0, 0)
return {1, following[1] or false}
`;

/**
 * The producer's confirmation that both stores hold the turn: a worker's end may now be claimed.
 * {endDue or false, its detail or false}: an end a worker reached before it, to claim now.
 */
const ACCEPT = `
redis.call('HDEL', KEYS[1], 'pending')
local due = redis.call('HMGET', KEYS[1], 'endDue', 'endDueDetail')
return {due[1] or false, due[2] or false}
`;

/** ARGV: index. Keeps the highest chunk index a consumer read; never creates the state (it may have expired). */
const MARK_READ = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'read') or '-1')
if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], 'read', ARGV[1]) end
return 1
`;

export const LIVE_SCRIPTS = {
  voxqLiveOpen: { keys: 4, lua: OPEN },
  voxqLiveAppend: { keys: 2, lua: APPEND },
  voxqLivePut: { keys: 2, lua: PUT },
  voxqLiveDeliver: { keys: 2, lua: DELIVER },
  voxqLiveSetTotal: { keys: 2, lua: SET_TOTAL },
  voxqLiveClaimEnd: { keys: 2, lua: CLAIM_END },
  voxqLiveAccept: { keys: 1, lua: ACCEPT },
  voxqLiveWriteEnd: { keys: 4, lua: WRITE_END },
  voxqLiveMarkRead: { keys: 1, lua: MARK_READ },
} as const;

export type LiveScriptName = keyof typeof LIVE_SCRIPTS;
export type LiveScripts = Record<LiveScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** The scripts bound to a connection (defined once per connection; ioredis runs them by EVALSHA). */
export function liveScripts(redis: RedisClient): LiveScripts {
  const commands = redis as unknown as Record<string, unknown>;
  const bound = {} as LiveScripts;
  for (const [name, script] of Object.entries(LIVE_SCRIPTS) as [LiveScriptName, { keys: number; lua: string }][]) {
    if (typeof commands[name] !== 'function') redis.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
    const command = commands[name] as (...args: (string | number)[]) => Promise<unknown>;
    bound[name] = (...args) => command.apply(redis, args);
  }
  return bound;
}
