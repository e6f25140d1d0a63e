// Several GPU-pinned worker processes on two simulated cards race for jobs of mixed sizes: a
// checker samples the ledger back to back and must never see more reserved than a card has;
// every job completes on its single attempt (waiting for memory spends none). Then: a SIGKILLed
// lease holder's memory is reservable again within the lease TTL.
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { configSchema } from '../../src/shared/config.js';
import { openGpuManager } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { checkLedgerContinuously, deletePrefix, gpuTestPrefix, reservedMb } from '../support/gpu-ledger.js';
import type { RacerFigures, RacerJob } from '../support/gpu-racer.js';
import { spawnScript, stopScript } from '../support/script-process.js';
import { pick, seededRandom } from '../support/seeded-random.js';
import type { VoxqProcess } from '../support/voxq-process.js';
import { stopProcesses } from '../support/e2e-cleanup.js';

const CARD_MB = 8192;
const GPUS = `0:Sim Card A:${CARD_MB},1:Sim Card B:${CARD_MB}`;
const processes: VoxqProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await stopProcesses(processes);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: inject('redisUrl'), VOXQ_PREFIX: prefix, VOXQ_GPUS: GPUS, VOXQ_LOG_LEVEL: 'info', ...extra };
}

describe('GPU reservations across processes', () => {
  it('never reserves more than a card has while 4 pinned workers race for mixed sizes, and no job loses an attempt', async () => {
    const prefix = gpuTestPrefix();
    const redis = new Redis(inject('redisUrl'));
    const queue = new Queue<RacerJob>('gpu-race', { connection: redis, prefix });
    const events = new QueueEvents('gpu-race', { connection: { url: inject('redisUrl') }, prefix });
    cleanups.push(async () => {
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    });

    const racers = [0, 0, 1, 1].map((gpu) =>
      spawnScript('tests/support/gpu-racer.ts', env(prefix, { RACER_GPU: String(gpu), RACER_CONCURRENCY: '6', VOXQ_GPU_LEASE_TTL_MS: '5000' })),
    );
    processes.push(...racers);
    await Promise.all(racers.map((r) => r.waitForLog('racer ready')));

    const checker = checkLedgerContinuously(redis, prefix, resolveHostId(), [CARD_MB, CARD_MB]);
    const random = seededRandom(42);
    const jobs = Array.from({ length: 160 }, (_, i) => ({
      name: 'race',
      data: { mb: pick(random, [256, 512, 1024, 2048, 4096]), holdMs: 5 + Math.floor(random() * 25) },
      opts: { jobId: `race-${i}`, attempts: 1, removeOnComplete: false, removeOnFail: false },
    }));
    const failed: string[] = [];
    events.on('failed', ({ jobId, failedReason }) => failed.push(`${jobId}: ${failedReason}`));
    await events.waitUntilReady();
    await queue.addBulk(jobs);

    await expect.poll(() => queue.getCompletedCount(), { timeout: 50_000, interval: 100 }).toBe(jobs.length);
    await checker.stop();
    const figures = (await Promise.all(racers.map(stopScript))).map((out) => JSON.parse(out.trim().split('\n').pop() ?? '{}') as RacerFigures);

    expect(checker.violations).toEqual([]);
    expect(checker.samples).toBeGreaterThan(20);
    expect(failed).toEqual([]);
    expect(await queue.getFailedCount()).toBe(0);
    expect(figures.reduce((sum, f) => sum + f.completed, 0)).toBe(jobs.length);
    // Memory was short at times (jobs waited on the card's list until a release handed it over), and both cards did work.
    expect(figures.reduce((sum, f) => sum + f.waitMs.length, 0)).toBeGreaterThan(0);
    expect(checker.maxReservedMb.every((mb) => mb > CARD_MB / 2)).toBe(true);
    // Every job ran on its first and only attempt.
    const done = await queue.getJobs(['completed'], 0, -1);
    expect(done.every((job) => job.attemptsMade <= 1 && job.attemptsStarted >= 1)).toBe(true);
    // Graceful exits release everything at once.
    expect(await reservedMb(redis, prefix, resolveHostId(), 0)).toBe(0);
    expect(await reservedMb(redis, prefix, resolveHostId(), 1)).toBe(0);
  });

  it('gives a SIGKILLed holder’s memory back within the lease TTL, and a SIGTERMed one’s at once', async () => {
    const prefix = gpuTestPrefix();
    const ttlMs = 1500;
    const redis = new Redis(inject('redisUrl'));
    const config = configSchema.parse({ ...env(prefix), VOXQ_GPU_LEASE_TTL_MS: String(ttlMs) });
    const manager = openGpuManager(config, { log: createLogger('gpu-test', 'silent') });
    cleanups.push(async () => {
      await manager.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    });
    const holderEnv = env(prefix, { VOXQ_GPU_LEASE_TTL_MS: String(ttlMs), HOLDER_GPU: '0', HOLDER_MB: '6000' });

    const killed = spawnScript('tests/support/gpu-holder.ts', holderEnv);
    processes.push(killed);
    await killed.waitForLog('gpu lease held');
    const refused = await manager.allocate('test', 4000, { gpuUuid: 'GPU-simulated-0000' });
    expect(refused).toMatchObject({ ok: false, code: 'insufficient_memory', freeMb: 2192 });
    // Several renewal rounds pass: the live holder keeps its memory well beyond one TTL.
    await expect.poll(async () => (await manager.leases()).find((l) => l.serviceId === 'holder')?.pid, { timeout: 5000 }).toBe(killed.child.pid);

    killed.kill('SIGKILL');
    await killed.exited;
    const killedAt = Date.now();
    let back: Awaited<ReturnType<typeof manager.allocate>> | undefined;
    await expect
      .poll(
        async () => {
          back = await manager.allocate('test', 4000, { gpuUuid: 'GPU-simulated-0000' });
          return back.ok;
        },
        { timeout: ttlMs + 3000, interval: 50 },
      )
      .toBe(true);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(ttlMs + 500);
    if (back?.ok) await back.lease.release();

    const stopped = spawnScript('tests/support/gpu-holder.ts', holderEnv);
    processes.push(stopped);
    await stopped.waitForLog('gpu lease held');
    await stopScript(stopped);
    expect(await stopped.exited).toBe(0);
    expect(await reservedMb(redis, prefix, resolveHostId(), 0)).toBe(0);
  });
});
