// A PING every 25 ms while work runs: what one Redis round trip costs from a mostly idle process
// of this machine at the time (the yardstick for paths measured in round trips).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

const INTERVAL_MS = 25;

export class RedisRtt {
  private readonly rttsMs: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(redis: Redis) {
    this.loop = (async () => {
      while (this.running) {
        const started = performance.now();
        await redis.ping();
        this.rttsMs.push(performance.now() - started);
        await sleep(INTERVAL_MS);
      }
    })();
  }

  /** Stops sampling; each round trip in ms. Idempotent. */
  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return [...this.rttsMs];
  }
}
