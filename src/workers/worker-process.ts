// A worker process: builds the stage dependencies from config (or takes them injected),
// starts one BullMQ worker per stage, and closes in order: stop taking work, let active jobs
// finish, then queues, connections, stores and tracing.
import type { Worker } from 'bullmq';
import { ConfigError, type Config } from '../shared/config.js';
import type { PinnedGpu } from '../shared/gpu/pinned-gpu.js';
import type { StageName } from '../shared/contracts/turn.js';
import { createLogger, type Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/ports/metrics.js';
import { createProviders, type Providers } from '../shared/providers/create-providers.js';
import { StageQueues } from '../shared/queues.js';
import { closeRedis, createRedis, isCluster, redisTargetOf } from '../shared/redis.js';
import { QueueShards, resolveQueueShards } from '../shared/shards/queue-shards.js';
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
  /**
   * The queue shards (src/shared/shards/queue-shards.ts); openWorkerProcess resolves them. Absent:
   * the unsharded layout, which a Redis Cluster or VOXQ_QUEUE_SHARDS > 1 does not allow.
   */
  shards?: QueueShards;
}

export interface WorkerProcess {
  workers: Worker[];
  deps: StageDeps;
  reconciler: TurnReconciler;
  /** Graceful: waits for active jobs. Idempotent. */
  close(): Promise<void>;
}

/**
 * Resolves the queue shards (the tags a Redis Cluster's slot map gives, shared through Redis) and
 * starts the worker process on them. Needed with VOXQ_REDIS_CLUSTER_NODES or VOXQ_QUEUE_SHARDS > 1.
 */
export async function openWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  if (options.shards) return startWorkerProcess(options);
  const { config } = options;
  const redis = createRedis(redisTargetOf(config), 'producer', 'voxq-worker-shards');
  try {
    const shards = await resolveQueueShards(redis, { prefix: config.VOXQ_PREFIX, shards: config.VOXQ_QUEUE_SHARDS });
    return startWorkerProcess({ ...options, shards });
  } finally {
    await closeRedis(redis);
  }
}

/**
 * How many jobs of a stage this process runs at once on each shard: `concurrency` spread over the
 * shards as evenly as it goes, the remainder on shards that depend on the process (its pid), so
 * that many processes cover every shard alike. Each shard gets at least one: a stage's jobs never
 * sit on a shard nobody serves.
 */
export function concurrencyPerShard(concurrency: number, shards: number, seed = process.pid): number[] {
  const base = Math.floor(concurrency / shards);
  const extra = concurrency % shards;
  return Array.from({ length: shards }, (_, shard) => {
    const rank = (((shard - seed) % shards) + shards) % shards;
    return Math.max(1, base + (rank < extra ? 1 : 0));
  });
}

/** Stage workers in this process on injected (or configured) providers and stores; injected parts are checked first. */
/** How long a cluster worker's BullMQ workers get to close before their connections are cut. */
const CLUSTER_CLOSE_MS = 10_000;

/**
 * On a Redis Cluster a BullMQ worker that lived through a failover may never finish closing (its
 * blocking connection waits on the node that died). Its jobs were already handed back: past
 * CLUSTER_CLOSE_MS its connections are cut instead.
 */
async function closedOrCut(closed: Promise<unknown>, workers: readonly Worker[], log: Logger): Promise<void> {
  if (await settlesWithin(closed, CLUSTER_CLOSE_MS)) return;
  log.warn({ afterMs: CLUSTER_CLOSE_MS }, 'stage workers did not close in time: their connections are cut');
  await settlesWithin(Promise.allSettled(workers.map((worker) => worker.disconnect())), 2000);
}

/** Whether `promise` settled within `ms` (it is left running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return (await Promise.race([promise.then(() => 'settled', () => 'settled'), late])) !== 'late';
  } finally {
    clearTimeout(timer);
  }
}

export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const { config, stages, stores } = options;
  // Injected parts are refused here, naming what they lack, before any connection is opened.
  checkWorkerParts(options);
  if (!options.shards && (config.VOXQ_REDIS_CLUSTER_NODES !== undefined || config.VOXQ_QUEUE_SHARDS > 1)) {
    throw new ConfigError('VOXQ_REDIS_CLUSTER_NODES and VOXQ_QUEUE_SHARDS > 1 need the queue shards resolved first: start the workers with openWorkerProcess()', 'shards_unresolved');
  }
  const shards = options.shards ?? QueueShards.unsharded(config.VOXQ_PREFIX);
  const log = options.log ?? createLogger('voxq-worker', config.VOXQ_LOG_LEVEL);
  const providers = options.providers ?? createProviders(config, stages);
  const target = redisTargetOf(config);
  const producer = createRedis(target, 'producer', 'voxq-worker-producer');
  const blocking = createRedis(target, 'worker', 'voxq-worker');
  const telemetry = options.tracing?.bullmq;
  const cancelSubscriber = createRedis(target, 'subscriber', 'voxq-worker-cancel');
  const queues = new StageQueues({ connection: producer, prefix: config.VOXQ_PREFIX, attempts: config.VOXQ_STAGE_ATTEMPTS, telemetry, shards });
  const metrics = options.metrics ?? new OtelMetrics();
  const live = new LiveTurns(producer, { ...liveTurnsOptionsFrom(config), prefix: shards });
  const context = new SessionContextCache(producer, { prefix: shards, ttlMs: RUNNING_TTL_MS, maxMessages: config.VOXQ_CONTEXT_MESSAGES });
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
  // One BullMQ worker per stage and shard; --concurrency is the stage's, spread over its shards.
  const perShard = concurrencyPerShard(options.concurrency, shards.count);
  const workers = stages.flatMap((stage) =>
    shards.indexes().map((shard) =>
      createStageWorker(stage, deps, {
        connection: blocking,
        prefix: shards.queuePrefix(shard),
        queueName: shards.queueName(stage, shard),
        concurrency: perShard[shard] ?? 1,
        lockDurationMs: config.VOXQ_LOCK_DURATION_MS,
        telemetry,
        autorun: options.autorun ?? true,
        ...(stage === 'stt' && batch ? batch : {}),
      }),
    ),
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
  log.info({ stages, concurrency: options.concurrency, shards: shards.count, prefix: config.VOXQ_PREFIX, gpuUuid: options.gpu?.card.uuid }, 'workers started');

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
        await (isCluster(blocking) ? closedOrCut(closed, workers, log) : closed);
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
