// What a worker process running the `stt` stage adds for batch transcription: the batch
// processor, and the provider's shared limits for both kinds of caller (the request window, with
// the batch 429 backoff, and the audio-seconds budget). The limits are the STT provider's, so
// they apply to a real provider only (not the fake).
import type { RedisClient } from '../shared/redis.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/ports/metrics.js';
import type { Providers } from '../shared/providers/create-providers.js';
import { AudioBudget } from '../shared/rate-limit/audio-budget.js';
import { RequestWindow } from '../shared/rate-limit/request-window.js';
import { sttLimitsFrom } from '../shared/rate-limit/stt-limits.js';
import type { StoreSet } from '../shared/store/store-set.js';
import type { BatchWorkerDeps } from './batch-stt.js';

export interface BatchWorkerOptions {
  config: Config;
  stores: StoreSet;
  providers: Partial<Providers>;
  log: Logger;
  metrics: Metrics;
  /** For the limits' scripts (a non-blocking connection). */
  redis: RedisClient;
}

/** Spread into the `stt` stage worker's options: `requests` is also the live turns' request window. */
export function batchSttWorkerOptions(options: BatchWorkerOptions): { batch: BatchWorkerDeps; requests?: RequestWindow } {
  const { config, providers } = options;
  const limits = sttLimitsFrom(config);
  const limited = providers.stt !== undefined && providers.stt.info().provider !== 'fake';
  // Made even without a request limit: a batch 429 still holds batch work off the provider.
  const requests = limited
    ? new RequestWindow({ redis: options.redis, prefix: config.VOXQ_PREFIX, limit: limits.requestsPerMinute, liveReserve: limits.liveReserveRequests })
    : undefined;
  const batch: BatchWorkerDeps = {
    records: options.stores.batches,
    audio: options.stores.audio,
    stt: () => {
      if (!providers.stt) throw new Error('this worker has no stt provider');
      return providers.stt;
    },
    budget:
      limited && limits.audioSecondsPerHour > 0
        ? new AudioBudget({
            redis: options.redis,
            prefix: config.VOXQ_PREFIX,
            audioSecondsPerHour: limits.audioSecondsPerHour,
            liveReserveShare: limits.liveReserveShare,
          })
        : undefined,
    requests,
    log: options.log,
    metrics: options.metrics,
    stageTimeoutMs: config.VOXQ_STAGE_TIMEOUT_MS,
  };
  return { batch, ...(requests ? { requests } : {}) };
}
