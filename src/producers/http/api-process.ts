// The API process: opens MongoDB and Redis from config, builds the SDK client, the key store,
// the readiness checks, Prometheus metrics (queue depth included) and the board's queues, and
// serves them; close() stops taking requests, lets those in flight finish, then closes the rest.
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { BullmqServiceClient } from '../../shared/bullmq-service-client.js';
import { requireMongoUrl, type Config } from '../../shared/config.js';
import { STAGES } from '../../shared/contracts/turn.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import { closeRedis, createRedis, quietOnOutage, redisTargetOf } from '../../shared/redis.js';
import { resolveQueueShards } from '../../shared/shards/queue-shards.js';
import { MongoApiKeyStore } from '../../shared/store/mongo-api-key-store.js';
import { openMongoStores } from '../../shared/store/mongo-stores.js';
import { PROMETHEUS_METRICS_PORT, PrometheusMetrics } from '../../shared/telemetry/prometheus-metrics.js';
import { checkPart } from '../../shared/injected-parts.js';
import { observeQueueDepth } from '../../shared/telemetry/queue-depth.js';
import type { TracingHandle } from '../../shared/telemetry/tracing.js';
import { connect } from '../sdk/connect.js';
import { buildApiServer } from './api-server.js';
import { stageOffersFromConfig } from './stage-offers.js';

export interface ApiProcessOptions {
  config: Config;
  /** 0 picks a free port. Defaults to VOXQ_API_PORT. */
  port?: number;
  host?: string;
  tracing?: TracingHandle;
  log?: Logger;
  /** Metrics of this process; pass the same one to workers running in it to scrape theirs too. */
  metrics?: PrometheusMetrics;
}

export interface ApiProcess {
  app: FastifyInstance;
  url: string;
  port: number;
  keys: ApiKeyStore;
  metrics: PrometheusMetrics;
  close(): Promise<void>;
}

/** The HTTP API, Bull Board and /metrics on one port, on MongoDB and Redis from config; close() drains requests first. */
export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  const { config } = options;
  if (options.metrics !== undefined) checkPart('metrics', options.metrics, PROMETHEUS_METRICS_PORT);
  const log = options.log ?? createLogger('voxq-api', config.VOXQ_LOG_LEVEL);
  const mongo = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
  const metrics = options.metrics ?? new PrometheusMetrics('voxq-api');
  const client = await connect({ config, stores: mongo, metrics: metrics.metrics, ...(options.tracing ? { tracing: options.tracing } : {}) });
  const redis = createRedis(redisTargetOf(config), 'producer', 'voxq-api');
  // Every stage queue, a sharded stage's shards side by side (Bull Board groups `stt.0`, `stt.1` … under `stt`).
  const shards = await resolveQueueShards(redis, { prefix: config.VOXQ_PREFIX, shards: config.VOXQ_QUEUE_SHARDS });
  const boardQueues = STAGES.flatMap((stage) =>
    shards.indexes().map((shard) => quietOnOutage(new Queue(shards.queueName(stage, shard), { connection: redis, prefix: shards.queuePrefix(shard) }))),
  );
  // Service calls and stage health on shard 0: every worker process serves every shard of its stages.
  const services = new BullmqServiceClient({ connection: redis, prefix: shards.queuePrefix(0), queueName: (stage) => shards.queueName(stage, 0) });
  const stopDepth = observeQueueDepth(metrics.meter, boardQueues);
  const keys = new MongoApiKeyStore(mongo.db);
  const app = await buildApiServer({
    client,
    keys,
    metrics,
    boardQueues,
    log,
    jsonBodyLimitBytes: config.VOXQ_API_BODY_LIMIT_BYTES,
    maxUploads: config.VOXQ_API_MAX_UPLOADS,
    requestTimeoutMs: config.VOXQ_API_REQUEST_TIMEOUT_MS,
    readiness: { services, pingRedis: () => redis.ping(), pingMongo: () => mongo.db.command({ ping: 1 }) },
    redis,
    prefix: config.VOXQ_PREFIX,
    signInTtlMs: config.VOXQ_API_SIGN_IN_TTL_MS,
    trustProxy: config.VOXQ_TRUST_PROXY,
    stageOffers: stageOffersFromConfig(config),
    ...(config.VOXQ_TRACE_URL_TEMPLATE ? { traceUrlTemplate: config.VOXQ_TRACE_URL_TEMPLATE } : {}),
  });
  await app.listen({ port: options.port ?? config.VOXQ_API_PORT, host: options.host ?? config.VOXQ_API_HOST });
  const { port, address, family } = app.server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address === '0.0.0.0' ? '127.0.0.1' : address;
  log.info({ port, host: address }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${port}`,
    port,
    keys,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        stopDepth();
        await Promise.all(boardQueues.map((q) => q.close()));
        await services.close();
        await client.close();
        await closeRedis(redis);
        await mongo.close();
        if (!options.metrics) await metrics.shutdown();
        log.info('api stopped');
      })()),
  };
}
