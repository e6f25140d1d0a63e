// The STT provider's published limits as voxq applies them (Groq's free tier by default:
// 20 requests/min, 7,200 audio s/hour, 25 MB a file). Requests per minute become BullMQ's
// queue-wide limiter on the `stt` queue, as one job per interval: any minute then holds at most
// the limit, with no burst at a window's edge that the provider would answer with 429.
import type { Config } from '../config.js';

export interface SttLimits {
  /** 0: no request limit. */
  requestsPerMinute: number;
  /** 0: no audio budget. */
  audioSecondsPerHour: number;
  maxFileBytes: number;
}

export function sttLimitsFrom(config: Config): SttLimits {
  return {
    requestsPerMinute: config.VOXQ_STT_REQUESTS_PER_MINUTE,
    audioSecondsPerHour: config.VOXQ_STT_AUDIO_SECONDS_PER_HOUR,
    maxFileBytes: config.VOXQ_STT_MAX_FILE_BYTES,
  };
}

/** BullMQ worker `limiter` for a request limit: one job per `60 000 / (limit − 1)` ms (so any 60 s holds at most `limit`). */
export function requestLimiter(requestsPerMinute: number): { max: number; duration: number } | undefined {
  if (requestsPerMinute <= 0) return undefined;
  return { max: 1, duration: Math.ceil(60_000 / Math.max(1, requestsPerMinute - 1)) };
}
