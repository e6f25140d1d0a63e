// The Redis server's own CPU time (INFO cpu: user + system), to tell how much of a turn's cost
// is Redis's and how much the client process's. The server is shared: read it around work that
// runs alone.
import type { Redis } from 'ioredis';

/** used_cpu_user + used_cpu_sys, in microseconds. */
export async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:([0-9.]+)\\r?$`, 'm').exec(info);
    if (!match?.[1]) throw new Error(`INFO cpu has no ${name} field`);
    return Number(match[1]);
  };
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}
