// Redis connections. BullMQ workers need `maxRetriesPerRequest: null` (they block on Redis
// and must ride out a restart); producers fail fast instead so a caller hears of a dead Redis.
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from './config.js';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

export function createRedis(url: string, role: RedisRole, name?: string, extra: Partial<RedisOptions> = {}): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'producer' ? 3 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...(name ? { connectionName: name } : {}),
    ...extra,
  };
  const redis = new Redis(url, options);
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

/** Redis's answers to a wrong or missing password: a setting to fix, not an outage to wait out. */
export function isRedisAuthError(error: unknown): boolean {
  return error instanceof Error && /^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(error.message);
}

/**
 * Resolves once the connection is ready; rejects with ConfigError `redis_auth_failed` when Redis
 * refuses its password (ioredis would retry it forever, and every call would wait). Any other
 * failure (Redis down) resolves at once: that is left to the outage handling, as is a connect
 * that has not answered after `waitMs`.
 */
export async function checkRedisAuth(redis: Redis, waitMs = 5000): Promise<void> {
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
      done(new ConfigError(`Redis refused the credentials in REDIS_URL (${error.message.split('.')[0]}): set the right password (redis://:PASSWORD@host:port, or user:password@)`, 'redis_auth_failed'));
    };
    const timer = setTimeout(() => done(), waitMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
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
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
