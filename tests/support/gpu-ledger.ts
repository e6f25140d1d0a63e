// Test helpers for the GPU ledger: a unique prefix, a checker sampling every card's reservations
// continuously, and removal of everything under the prefix.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { simulatedUuid } from '../../src/shared/gpu/simulated-inventory.js';

export function gpuTestPrefix(): string {
  return `vg${randomBytes(5).toString('hex')}`;
}

/** What the ledger holds on a card: every lease in its hash, expired-but-not-yet-dropped included. */
export async function reservedMb(redis: Redis, prefix: string, host: string, index: number): Promise<number> {
  const mbs = await redis.hvals(`${prefix}:gpu:${host}:${simulatedUuid(index)}:mb`);
  return mbs.reduce((sum, v) => sum + Number(v), 0);
}

/** Requests waiting on a card's list for memory to be handed over (jobs still waiting to run). */
export function waitingCount(redis: Redis, prefix: string, host: string, index: number): Promise<number> {
  return redis.zcard(`${prefix}:gpu:${host}:${simulatedUuid(index)}:wait`);
}

export interface LedgerChecker {
  samples: number;
  maxReservedMb: number[];
  violations: string[];
  stop(): Promise<void>;
}

/** Samples every card back to back (one HVALS per card per round) until stopped. */
export function checkLedgerContinuously(redis: Redis, prefix: string, host: string, totalsMb: readonly number[]): LedgerChecker {
  let running = true;
  const checker: LedgerChecker = {
    samples: 0,
    maxReservedMb: totalsMb.map(() => 0),
    violations: [],
    stop: async () => {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    while (running) {
      const sums = await Promise.all(totalsMb.map((_, i) => reservedMb(redis, prefix, host, i)));
      sums.forEach((sum, i) => {
        const total = totalsMb[i] ?? 0;
        checker.maxReservedMb[i] = Math.max(checker.maxReservedMb[i] ?? 0, sum);
        if (sum > total) checker.violations.push(`card ${i}: ${sum} MB reserved of ${total} MB`);
      });
      checker.samples += 1;
    }
  })();
  return checker;
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}
