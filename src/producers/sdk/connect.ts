// Builds a VoxqClient from config: Redis for the queues and turn events, MongoDB for the
// stores. Everything it opens, client.close() closes.
import { loadConfig, requireMongoUrl, type Config } from '../../shared/config.js';
import { StageQueues } from '../../shared/queues.js';
import { UnavailableError } from '../../shared/errors.js';
import { withOutageErrors } from '../../shared/infra-errors.js';
import { checkRedisAuth, closeRedis, clusterReady, createRedis, isCluster, redisTargetOf } from '../../shared/redis.js';
import { ShardedLogReader } from '../../shared/live/sharded-log-reader.js';
import { resolveQueueShards, type QueueShards } from '../../shared/shards/queue-shards.js';
import { openMongoStores } from '../../shared/store/mongo-stores.js';
import type { StoreSet } from '../../shared/store/store-set.js';
import { METRICS_PORT, type Metrics } from '../../shared/ports/metrics.js';
import { checkPart, checkStoreSet } from '../../shared/injected-parts.js';
import type { TracingHandle } from '../../shared/telemetry/tracing.js';
import { audioRoutingFrom } from './turn-routing.js';
import { VoxqClient } from './voxq-client.js';

export interface ConnectOptions {
  /** Defaults to the environment (REDIS_URL, MONGO_URL, VOXQ_*). */
  config?: Config;
  /** Stores to use instead of opening MongoDB (benchmarks use memory stores). */
  stores?: StoreSet;
  tracing?: TracingHandle;
  resultTimeoutMs?: number;
  /** Where turns this client ends are counted (see VoxqClientDeps.metrics). */
  metrics?: Metrics;
}

/** A VoxqClient on Redis and MongoDB from config (or on injected stores); injected parts are checked first. */
export async function connect(options: ConnectOptions = {}): Promise<VoxqClient> {
  const config = options.config ?? loadConfig();
  // Injected parts are refused here, naming what they lack, before anything is opened.
  if (options.stores !== undefined) checkStoreSet('stores', options.stores);
  if (options.metrics !== undefined) checkPart('metrics', options.metrics, METRICS_PORT);
  // A database that does not answer is an UnavailableError naming it, like every later call's.
  const stores = options.stores ?? (await withOutageErrors(() => openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB)));
  const target = redisTargetOf(config);
  const producer = createRedis(target, 'producer', 'voxq-sdk');
  // TurnLogReader reissues a read lost to a reconnect itself (a resent one would block under an id it cannot know).
  const openBlocking = () => createRedis(target, 'subscriber', 'voxq-sdk-events', { autoResendUnfulfilledCommands: false });
  const subscriber = openBlocking();
  try {
    // A refused password fails here, with a code, instead of every call waiting on reconnects.
    await checkRedisAuth(producer);
    // A cluster none of whose nodes answers would hold every command until one does.
    if (isCluster(producer) && !(await clusterReady(producer))) {
      producer.disconnect();
      throw new UnavailableError('redis_unavailable', 'no node of VOXQ_REDIS_CLUSTER_NODES answered with the cluster\'s slot map within 5 s (down, or not a cluster); retry once it is up');
    }
  } catch (error) {
    subscriber.disconnect();
    if (!options.stores) await stores.close();
    throw error;
  }
  let shards: QueueShards;
  try {
    shards = await withOutageErrors(() => resolveQueueShards(producer, { prefix: config.VOXQ_PREFIX, shards: config.VOXQ_QUEUE_SHARDS }));
  } catch (error) {
    subscriber.disconnect();
    producer.disconnect();
    if (!options.stores) await stores.close();
    throw error;
  }
  const queues = new StageQueues({
    connection: producer,
    prefix: config.VOXQ_PREFIX,
    attempts: config.VOXQ_STAGE_ATTEMPTS,
    telemetry: options.tracing?.bullmq,
    shards,
  });
  return new VoxqClient({
    stores,
    queues,
    subscriber,
    // On a cluster one XREAD reads one slot: a reader per shard.
    ...(isCluster(producer) ? { logReader: new ShardedLogReader({ openBlocking, control: producer, prefix: config.VOXQ_PREFIX }) } : {}),
    prefix: config.VOXQ_PREFIX,
    liveTtlMs: config.VOXQ_EVENT_LOG_TTL_MS,
    contextMessages: config.VOXQ_CONTEXT_MESSAGES,
    routing: audioRoutingFrom(config),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    batch: {
      redisUrl: target,
      queueShards: config.VOXQ_QUEUE_SHARDS,
      attempts: config.VOXQ_STAGE_ATTEMPTS,
      model: config.VOXQ_STT === 'fake' ? 'fake-stt' : config.VOXQ_STT_MODEL,
      maxChunkBytes: config.VOXQ_STT_MAX_FILE_BYTES,
    },
    defaults: {
      voice: config.VOXQ_VOICE,
      language: config.VOXQ_LANGUAGE,
      speed: 1,
      resultTimeoutMs: options.resultTimeoutMs ?? 120_000,
    },
    onClose: async () => {
      await closeRedis(producer);
      if (!options.stores) await stores.close();
      await options.tracing?.shutdown();
    },
  });
}
