// Redis connections, to one Redis (REDIS_URL) or a Redis Cluster (VOXQ_REDIS_CLUSTER_NODES).
// BullMQ workers need `maxRetriesPerRequest: null` (they block on Redis and must ride out a
// restart); producers fail fast instead so a caller hears of a dead Redis.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError, type ClusterNodes } from './config.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

/** A connection to one Redis or to a Redis Cluster: every command voxq sends works on both. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: a URL, or a cluster's seed nodes. */
export type RedisTarget = string | ClusterNodes;

/** The Redis a config points at: VOXQ_REDIS_CLUSTER_NODES when set, else REDIS_URL. */
export function redisTargetOf(config: { REDIS_URL: string; VOXQ_REDIS_CLUSTER_NODES?: ClusterNodes | undefined }): RedisTarget {
  return config.VOXQ_REDIS_CLUSTER_NODES ?? config.REDIS_URL;
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

export function createRedis(target: string, role: RedisRole, name?: string, extra?: Partial<RedisOptions>): Redis;
export function createRedis(target: RedisTarget, role: RedisRole, name?: string, extra?: Partial<RedisOptions>): RedisClient;
export function createRedis(target: RedisTarget, role: RedisRole, name?: string, extra: Partial<RedisOptions> = {}): RedisClient {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'producer' ? 3 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...(name ? { connectionName: name } : {}),
    ...extra,
  };
  const redis = typeof target === 'string' ? new Redis(target, options) : new Cluster(target.nodes, clusterOptions(target, options));
  // Without a listener ioredis prints "Unhandled error event" for every failed reconnect during an
  // outage. Commands still reject with their own errors; the connection reconnects by itself.
  let lastLoggedAt = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() - lastLoggedAt < 10_000) return;
    lastLoggedAt = Date.now();
    process.emitWarning(`voxq: Redis connection ${name ?? role} failed: ${error.message} (reconnecting)`, { code: 'VOXQ_REDIS' });
  });
  return redis;
}

/**
 * A cluster connection: the node options go to every node; a failover (a replica promoted) is
 * ridden out by retrying on the refreshed slot map, as a single Redis's restart is.
 */
function clusterOptions(target: ClusterNodes, options: RedisOptions): ClusterOptions {
  const { enableReadyCheck, lazyConnect, enableOfflineQueue, ...nodeOptions } = options;
  return {
    enableReadyCheck: enableReadyCheck ?? true,
    lazyConnect: lazyConnect ?? false,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    // Node errors during a failover: retry on a fresh slot map, about every 100 ms.
    retryDelayOnFailover: 100,
    // A failover takes a node timeout or two: about 5 s of redirections before a command gives up.
    maxRedirections: 50,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: {
      ...nodeOptions,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}

/** A second connection like `redis` (same node or cluster, same options), named `name`. */
export function duplicateRedis(redis: RedisClient, name: string): RedisClient {
  if (isCluster(redis)) return redis.duplicate(undefined, { redisOptions: { ...redis.options.redisOptions, connectionName: name } });
  return redis.duplicate({ connectionName: name });
}

/** Redis's answers to a wrong or missing password: a setting to fix, not an outage to wait out. */
export function isRedisAuthError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (/^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(error.message)) return true;
  // A cluster that cannot load its slot map says so, with the last node's own error beside it.
  const lastNodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  return lastNodeError !== undefined && lastNodeError !== error && isRedisAuthError(lastNodeError);
}

/**
 * Resolves once the connection is ready; rejects with ConfigError `redis_auth_failed` when Redis
 * refuses its password (ioredis would retry it forever, and every call would wait). Any other
 * failure (Redis down) resolves at once: that is left to the outage handling, as is a connect
 * that has not answered after `waitMs`.
 */
export async function checkRedisAuth(redis: RedisClient, waitMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onError = (error: Error) => {
      if (!isRedisAuthError(error)) {
        done();
        return;
      }
      redis.disconnect();
      const refusal = (error as { lastNodeError?: Error }).lastNodeError ?? error;
      done(new ConfigError(`Redis refused the credentials in ${isCluster(redis) ? 'VOXQ_REDIS_CLUSTER_NODES' : 'REDIS_URL'} (${refusal.message.split('.')[0]}): set the right password (redis://:PASSWORD@host:port, or user:password@)`, 'redis_auth_failed'));
    };
    const timer = setTimeout(() => done(), waitMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * A cluster connection ready within `waitMs` (true), or not (false: no node answered). A Cluster
 * holds commands until it has a slot map, however long that takes: a producer that never got one
 * must say so rather than wait forever.
 */
export async function clusterReady(redis: RedisClient, waitMs = 5000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, waitMs);
    redis.once('ready', onReady);
  });
}

/**
 * BullMQ queues, flow producers and queue events re-emit their connection's errors; without a
 * listener BullMQ prints each one. The connection's own listener (createRedis) already reports
 * an outage, once per 10 s.
 */
export function quietOnOutage<T extends { on(event: 'error', listener: (error: Error) => void): unknown }>(emitter: T): T {
  emitter.on('error', () => undefined);
  return emitter;
}

/** Closes a connection politely, falling back to disconnect when Redis is gone. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  // A cluster's QUIT goes to every node it knows, a dead one too: it is not waited for past 2 s.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), isCluster(redis) ? 2000 : 60_000)));
  try {
    if ((await Promise.race([redis.quit(), late])) === 'late') redis.disconnect();
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
