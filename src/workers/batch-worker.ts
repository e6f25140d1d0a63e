// What a worker process running the `stt` stage adds for batch transcription: the batch
// processor and the request limiter on its `stt` worker. The limits are the STT provider's, so
// they apply to a real provider only (not the fake).
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/ports/metrics.js';
import type { Providers } from '../shared/providers/create-providers.js';
import { AudioBudget } from '../shared/rate-limit/audio-budget.js';
import { requestLimiter, sttLimitsFrom } from '../shared/rate-limit/stt-limits.js';
import type { StoreSet } from '../shared/store/store-set.js';
import type { BatchWorkerDeps } from './batch-stt.js';

export interface BatchWorkerOptions {
  config: Config;
  stores: StoreSet;
  providers: Partial<Providers>;
  log: Logger;
  metrics: Metrics;
  /** For the audio budget's script (a non-blocking connection). */
  redis: Redis;
}

/** Spread into the `stt` stage worker's options. */
export function batchSttWorkerOptions(options: BatchWorkerOptions): { batch: BatchWorkerDeps; limiter?: { max: number; duration: number } } {
  const { config, providers } = options;
  const limits = sttLimitsFrom(config);
  const limited = providers.stt !== undefined && providers.stt.info().provider !== 'fake';
  const batch: BatchWorkerDeps = {
    records: options.stores.batches,
    audio: options.stores.audio,
    stt: () => {
      if (!providers.stt) throw new Error('this worker has no stt provider');
      return providers.stt;
    },
    budget:
      limited && limits.audioSecondsPerHour > 0
        ? new AudioBudget({ redis: options.redis, prefix: config.VOXQ_PREFIX, audioSecondsPerHour: limits.audioSecondsPerHour })
        : undefined,
    log: options.log,
    metrics: options.metrics,
    stageTimeoutMs: config.VOXQ_STAGE_TIMEOUT_MS,
  };
  const limiter = limited ? requestLimiter(limits.requestsPerMinute) : undefined;
  return { batch, ...(limiter ? { limiter } : {}) };
}
