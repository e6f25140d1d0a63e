// Redis connections. BullMQ workers need `maxRetriesPerRequest: null` (they block on Redis
// and must ride out a restart); producers fail fast instead so a caller hears of a dead Redis.
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'subscriber';

export function createRedis(url: string, role: RedisRole, name?: string): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: role === 'producer' ? 3 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...(name ? { connectionName: name } : {}),
  };
  return new Redis(url, options);
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
