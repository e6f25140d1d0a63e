// The STT provider's published limits as voxq applies them (Groq's free tier by default:
// 20 requests/min, 7,200 audio s/hour, 25 MB a file), and the share of them kept for live
// turns: batch work may use the limits minus the live reserve, live turns all of them. Requests
// are counted in a sliding window shared by every host (request-window.ts), audio seconds in
// the hourly budget (audio-budget.ts).
import type { Config, LiveReserve } from '../config.js';

/** Who is calling the provider: a live turn may use the whole limit, batch work the limit minus the live reserve. */
export type SttCaller = 'live' | 'batch';

export interface SttLimits {
  /** 0: no request limit. */
  requestsPerMinute: number;
  /** Requests per minute batch work leaves to live turns (under requestsPerMinute; 0 when there is no request limit). */
  liveReserveRequests: number;
  /** 0: no audio budget. */
  audioSecondsPerHour: number;
  /** The share (0–1) of the audio budget batch work leaves to live turns. */
  liveReserveShare: number;
  maxFileBytes: number;
}

export function sttLimitsFrom(config: Config): SttLimits {
  const requestsPerMinute = config.VOXQ_STT_REQUESTS_PER_MINUTE;
  const reserve = liveReserveOf(config.VOXQ_STT_LIVE_RESERVE, requestsPerMinute);
  return {
    requestsPerMinute,
    liveReserveRequests: reserve.requests,
    audioSecondsPerHour: config.VOXQ_STT_AUDIO_SECONDS_PER_HOUR,
    liveReserveShare: reserve.share,
    maxFileBytes: config.VOXQ_STT_MAX_FILE_BYTES,
  };
}

/**
 * The live reserve in requests per minute and as a share of the limits. A percentage rounds up
 * (a reserve over 0 % keeps at least one request for live turns) but always leaves batch work
 * at least one request; a number of requests is that share of the request limit.
 */
export function liveReserveOf(reserve: LiveReserve, requestsPerMinute: number): { requests: number; share: number } {
  if ('percent' in reserve) {
    const share = reserve.percent / 100;
    const requests = requestsPerMinute > 0 ? Math.min(requestsPerMinute - 1, Math.ceil(requestsPerMinute * share - 1e-9)) : 0;
    return { requests, share };
  }
  if (requestsPerMinute <= 0) return { requests: 0, share: 0 };
  const requests = Math.min(requestsPerMinute - 1, reserve.requests);
  return { requests, share: requests / requestsPerMinute };
}
