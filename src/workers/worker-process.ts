// A worker process: builds the stage dependencies from config (or takes them injected),
// starts one BullMQ worker per stage, and closes in order: stop taking work, let active jobs
// finish, then queues, connections, stores and tracing.
import type { Worker } from 'bullmq';
import type { Config } from '../shared/config.js';
import type { PinnedGpu } from '../shared/gpu/pinned-gpu.js';
import type { StageName } from '../shared/contracts/turn.js';
import { createLogger, type Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/ports/metrics.js';
import { createProviders, type Providers } from '../shared/providers/create-providers.js';
import { StageQueues } from '../shared/queues.js';
import { closeRedis, createRedis } from '../shared/redis.js';
import type { StoreSet } from '../shared/store/store-set.js';
import { OtelMetrics } from '../shared/telemetry/otel-metrics.js';
import type { TracingHandle } from '../shared/telemetry/tracing.js';
import { ActiveTurns, CancelListener } from '../shared/live/cancel-bus.js';
import { LiveTurns, liveTurnsOptionsFrom, RUNNING_TTL_MS } from '../shared/live/live-turns.js';
import { SessionContextCache } from '../shared/live/session-context.js';
import { TurnEnder } from '../shared/live/turn-ender.js';
import { batchSttWorkerOptions } from './batch-worker.js';
import { checkWorkerParts } from './check-worker-parts.js';
import { stageSettingsFrom, type StageDeps } from './stage-deps.js';
import { createStageWorker } from './stage-worker.js';
import { ShutdownError } from './run-stage.js';
import { TurnReconciler } from './turn-reconciler.js';
import { UnfinishedTurns } from '../shared/live/unfinished-turns.js';

export interface WorkerProcessOptions {
  config: Config;
  stages: readonly StageName[];
  concurrency: number;
  stores: StoreSet;
  tracing?: TracingHandle;
  /** Defaults to the providers the config selects. */
  providers?: Partial<Providers>;
  metrics?: Metrics;
  log?: Logger;
  autorun?: boolean;
  /** Pinned to a GPU: each job reserves its working memory first (released when the process closes). */
  gpu?: PinnedGpu;
}

export interface WorkerProcess {
  workers: Worker[];
  deps: StageDeps;
  reconciler: TurnReconciler;
  /** Graceful: waits for active jobs. Idempotent. */
  close(): Promise<void>;
}

export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const { config, stages, stores } = options;
  // Injected parts are refused here, naming what they lack, before any connection is opened.
  checkWorkerParts(options);
  const log = options.log ?? createLogger('voxq-worker', config.VOXQ_LOG_LEVEL);
  const providers = options.providers ?? createProviders(config, stages);
  const producer = createRedis(config.REDIS_URL, 'producer', 'voxq-worker-producer');
  const blocking = createRedis(config.REDIS_URL, 'worker', 'voxq-worker');
  const telemetry = options.tracing?.bullmq;
  const cancelSubscriber = createRedis(config.REDIS_URL, 'subscriber', 'voxq-worker-cancel');
  const queues = new StageQueues({ connection: producer, prefix: config.VOXQ_PREFIX, attempts: config.VOXQ_STAGE_ATTEMPTS, telemetry });
  const metrics = options.metrics ?? new OtelMetrics();
  const live = new LiveTurns(producer, liveTurnsOptionsFrom(config));
  const context = new SessionContextCache(producer, { prefix: config.VOXQ_PREFIX, ttlMs: RUNNING_TTL_MS, maxMessages: config.VOXQ_CONTEXT_MESSAGES });
  const active = new ActiveTurns();
  const unfinished = new UnfinishedTurns(producer, config.VOXQ_PREFIX);
  const cancels = new CancelListener(cancelSubscriber, config.VOXQ_PREFIX, active);
  cancels.start().catch((error: unknown) => log.error({ err: error }, 'cancel subscription failed'));
  const deps: StageDeps = {
    turns: stores.turns,
    audio: stores.audio,
    sessions: stores.sessions,
    conversations: stores.conversations,
    providers,
    metrics,
    queues,
    live,
    context,
    ender: new TurnEnder({ live, context, turns: stores.turns, sessions: stores.sessions, audio: stores.audio, queues, metrics, log, unfinished }),
    active,
    unfinished,
    settings: stageSettingsFrom(config),
    log,
    gpu: options.gpu,
  };
  // Batch transcription rides on the stt workers (src/workers/batch-worker.ts).
  const batch = stages.includes('stt') ? batchSttWorkerOptions({ config, stores, providers, log, metrics: deps.metrics, redis: producer }) : undefined;
  // Live turns draw on the same hourly audio budget as batch work: one limit for the provider.
  deps.audioBudget = batch?.batch.budget;
  const workers = stages.map((stage) =>
    createStageWorker(stage, deps, {
      connection: blocking,
      prefix: config.VOXQ_PREFIX,
      concurrency: options.concurrency,
      lockDurationMs: config.VOXQ_LOCK_DURATION_MS,
      telemetry,
      autorun: options.autorun ?? true,
      ...(stage === 'stt' && batch ? batch : {}),
    }),
  );
  for (const worker of workers) options.gpu?.attach(worker);
  // Every worker process takes part in reconciling; one at a time does the work (a Redis lease).
  const reconciler = new TurnReconciler(deps, {
    prefix: config.VOXQ_PREFIX,
    intervalMs: config.VOXQ_RECONCILE_INTERVAL_MS,
    graceMs: config.VOXQ_RECONCILE_GRACE_MS,
    retentionDays: config.VOXQ_RETENTION_DAYS,
  });
  if (stages.length > 0 && (options.autorun ?? true)) reconciler.start();
  log.info({ stages, concurrency: options.concurrency, prefix: config.VOXQ_PREFIX, gpuUuid: options.gpu?.card.uuid }, 'workers started');

  let closing: Promise<void> | undefined;
  return {
    workers,
    deps,
    reconciler,
    close: () =>
      (closing ??= (async () => {
        // Active jobs go back to their queues at once (another worker takes them), rather than
        // this process finishing them or their locks running out.
        await reconciler.stop();
        const closed = Promise.all(workers.map((w) => w.close()));
        const handedBack = active.abortAll(new ShutdownError('the worker process is shutting down'));
        if (handedBack > 0) log.info({ jobs: handedBack }, 'active jobs handed back to their queues');
        await closed;
        await providers.tts?.close?.();
        await options.gpu?.close();
        await queues.close();
        await Promise.all([closeRedis(producer), closeRedis(blocking), closeRedis(cancelSubscriber)]);
        await stores.close();
        await options.tracing?.shutdown();
        log.info('workers stopped');
      })()),
  };
}
