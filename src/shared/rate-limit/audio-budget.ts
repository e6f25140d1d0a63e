// The provider's audio-seconds-per-hour limit, shared by every worker host. BullMQ's limiter
// counts jobs, not seconds, so each provider call first reserves its audio seconds here: one
// Lua script over a sorted set of reservations in the last hour (score = when, member carries
// the milliseconds) answers 0 (reserved) or how long to wait until enough of the window expires.
import type { Redis } from 'ioredis';

const RESERVE = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local member = ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if need > limit then return -1 end
local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  used = used + tonumber(string.match(entries[i], '^(%d+)|'))
end
if used + need <= limit then
  redis.call('ZADD', key, now, need .. '|' .. member)
  redis.call('PEXPIRE', key, window)
  return 0
end
local freed = 0
for i = 1, #entries, 2 do
  freed = freed + tonumber(string.match(entries[i], '^(%d+)|'))
  if used - freed + need <= limit then
    return math.max(1, tonumber(entries[i + 1]) + window - now)
  end
end
return window
`;

export interface AudioBudgetOptions {
  redis: Redis;
  /** Redis key prefix (VOXQ_PREFIX). */
  prefix: string;
  audioSecondsPerHour: number;
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

  /** Reserves `audioMs` of the hourly budget for `callId`. A call longer than the whole budget can never run: RangeError. */
  async reserve(callId: string, audioMs: number): Promise<Reservation> {
    const need = Math.max(1, Math.ceil(audioMs));
    const member = `${callId}|${Math.random().toString(36).slice(2, 10)}`;
    const limitMs = this.options.audioSecondsPerHour * 1000;
    const redis = this.options.redis;
    const reserveCommand = (redis as unknown as Required<ReserveCommand>).voxqReserveAudio.bind(redis);
    const answer = Number(await reserveCommand(this.key, this.now(), this.windowMs, limitMs, need, member));
    if (answer < 0) throw new RangeError(`a call of ${need} ms of audio exceeds the whole hourly budget of ${limitMs} ms`);
    return {
      waitMs: answer,
      release: async () => {
        if (answer === 0) await redis.zrem(this.key, `${need}|${member}`);
      },
    };
  }

  /** Audio milliseconds reserved in the current window. */
  async usedMs(): Promise<number> {
    const members = await this.options.redis.zrangebyscore(this.key, this.now() - this.windowMs, '+inf');
    return members.reduce((n, m) => n + Number(m.split('|')[0]), 0);
  }
}
