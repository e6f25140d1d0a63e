// What a benchmark leaves in Redis: memory used, bytes held by the keys under a prefix, and
// removing those keys afterwards (SCAN, never KEYS: the Redis is shared).
import type { Redis } from 'ioredis';

/** INFO memory's used_memory. */
export async function usedMemoryBytes(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)\r?$/m.exec(info);
  if (!match?.[1]) throw new Error('INFO memory has no used_memory field');
  return Number(match[1]);
}

/** Keys matching a SCAN pattern (`<prefix>:*` for one BullMQ prefix). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Sum of MEMORY USAGE (exact: SAMPLES 0) over the keys matching the pattern. */
export async function keyBytes(redis: Redis, pattern: string): Promise<{ keys: number; bytes: number }> {
  const keys = await scanKeys(redis, pattern);
  let bytes = 0;
  for (let i = 0; i < keys.length; i += 200) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 200)) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      if (!error && typeof value === 'number') bytes += value;
    }
  }
  return { keys: keys.length, bytes };
}

/** Removes every key matching the pattern; returns how many there were. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  const keys = await scanKeys(redis, pattern);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  return keys.length;
}
