// Redis connections. BullMQ workers need `maxRetriesPerRequest: null` (they block on Redis
// and must ride out a restart); producers fail fast instead so a caller hears of a dead Redis.
import { Redis, type RedisOptions } from 'ioredis';

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
