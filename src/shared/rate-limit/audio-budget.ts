// The provider's audio-seconds-per-hour limit, shared by every worker host. Requests are counted
// in the request window, not seconds, so each provider call first reserves its audio seconds
// here: one Lua script over a sorted set of reservations in the last hour (score = when, member
// carries the milliseconds and the caller) answers 0 (reserved) or how long to wait until enough
// of the window expires. Live turns may use the whole budget, batch work the budget less the
// live reserve's share.
import type { RedisClient } from '../redis.js';
import type { SttCaller } from './stt-limits.js';

/** Members are `<ms>|<live|batch>|<call id>|<random>` (older `<ms>|<call id>|…` count as live). ARGV: now, window, limit, batch limit, need, caller, member. */
const RESERVE = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local batchLimit = tonumber(ARGV[4])
local need = tonumber(ARGV[5])
local batch = ARGV[6] == 'batch'
local member = ARGV[7]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if need > (batch and batchLimit or limit) then return -1 end
local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local used, batchUsed = 0, 0
for i = 1, #entries, 2 do
  local ms, who = string.match(entries[i], '^(%d+)|([^|]*)')
  used = used + tonumber(ms)
  if who == 'batch' then batchUsed = batchUsed + tonumber(ms) end
end
local function fits(u, bu)
  return u + need <= limit and (not batch or bu + need <= batchLimit)
end
if fits(used, batchUsed) then
  redis.call('ZADD', key, now, need .. '|' .. ARGV[6] .. '|' .. member)
  redis.call('PEXPIRE', key, window)
  return 0
end
for i = 1, #entries, 2 do
  local ms, who = string.match(entries[i], '^(%d+)|([^|]*)')
  used = used - tonumber(ms)
  if who == 'batch' then batchUsed = batchUsed - tonumber(ms) end
  if fits(used, batchUsed) then
    return math.max(1, tonumber(entries[i + 1]) + window - now)
  end
end
return window
`;

export interface AudioBudgetOptions {
  redis: RedisClient;
  /** Redis key prefix (VOXQ_PREFIX). */
  prefix: string;
  audioSecondsPerHour: number;
  /** The share (0–1) of the budget batch work leaves to live turns; default 0. */
  liveReserveShare?: number;
  /** Default one hour; tests shorten it. */
  windowMs?: number;
  now?: () => number;
}

export interface Reservation {
  /** 0 when reserved; otherwise wait this long and try again. */
  waitMs: number;
  /** Gives the seconds back (the call failed before the provider counted it). */
  release(): Promise<void>;
}

interface ReserveCommand {
  voxqReserveAudio?(key: string, ...args: (string | number)[]): Promise<number>;
}

export class AudioBudget {
  readonly key: string;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AudioBudgetOptions) {
    this.key = `${options.prefix}:stt:audio-budget`;
    this.windowMs = options.windowMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    if (typeof (options.redis as unknown as ReserveCommand).voxqReserveAudio !== 'function') options.redis.defineCommand('voxqReserveAudio', { numberOfKeys: 1, lua: RESERVE });
  }

  /** The most audio milliseconds batch work may hold in a window. */
  get batchLimitMs(): number {
    const share = Math.min(1, Math.max(0, this.options.liveReserveShare ?? 0));
    return Math.floor(this.options.audioSecondsPerHour * 1000 * (1 - share));
  }

  /**
   * Reserves `audioMs` of the hourly budget for `callId`: a live caller within the whole budget,
   * a batch caller within its share. A call longer than that can never run: RangeError.
   */
  async reserve(callId: string, audioMs: number, caller: SttCaller): Promise<Reservation> {
    const need = Math.max(1, Math.ceil(audioMs));
    const member = `${callId}|${Math.random().toString(36).slice(2, 10)}`;
    const limitMs = this.options.audioSecondsPerHour * 1000;
    const redis = this.options.redis;
    const reserveCommand = (redis as unknown as Required<ReserveCommand>).voxqReserveAudio.bind(redis);
    const answer = Number(await reserveCommand(this.key, this.now(), this.windowMs, limitMs, this.batchLimitMs, need, caller, member));
    if (answer < 0) {
      const budget = caller === 'batch' ? `batch share of the hourly budget, ${this.batchLimitMs} ms` : `whole hourly budget of ${limitMs} ms`;
      throw new RangeError(`a call of ${need} ms of audio exceeds the ${budget}`);
    }
    return {
      waitMs: answer,
      release: async () => {
        if (answer === 0) await redis.zrem(this.key, `${need}|${caller}|${member}`);
      },
    };
  }

  /** Audio milliseconds reserved in the current window. */
  async usedMs(): Promise<number> {
    return (await this.members()).reduce((n, m) => n + Number(m.split('|')[0]), 0);
  }

  /** Of those, the milliseconds batch work reserved. */
  async batchUsedMs(): Promise<number> {
    return (await this.members()).filter((m) => m.split('|')[1] === 'batch').reduce((n, m) => n + Number(m.split('|')[0]), 0);
  }

  private members(): Promise<string[]> {
    return this.options.redis.zrangebyscore(this.key, `(${this.now() - this.windowMs}`, '+inf');
  }
}
