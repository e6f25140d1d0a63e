// Containers on one GPU box, simulated: processes with the box's VOXQ_HOST_ID (what each container
// of a box sets) reading the same fake nvidia-smi, which shows their pids as another pid namespace
// does (never the caller's own) and counts what each live process uses. The ledger must keep the
// card from being oversubscribed, count a container's memory once (its reservation, not again as
// foreign), and give a SIGKILLed container's memory back within the lease TTL.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { NvidiaSmiInventory } from '../../src/shared/gpu/nvidia-smi-inventory.js';
import { ModelProfiles } from '../../src/shared/gpu/model-profiles.js';
import { RedisGpuManager } from '../../src/shared/gpu/redis-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { stopProcesses } from '../support/e2e-cleanup.js';
import { FakeGpuBox } from '../support/fake-gpu-box.js';
import { deletePrefix, gpuTestPrefix } from '../support/gpu-ledger.js';
import { spawnScript, stopScript } from '../support/script-process.js';
import type { VoxqProcess } from '../support/voxq-process.js';

const BOX_ID = 'gpu-box-1';
const UUID = 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77';
const TOTAL_MB = 8192;
const STRANGER_MB = 1024;
const processes: VoxqProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopProcesses(processes);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(ttlMs: number) {
  const prefix = gpuTestPrefix();
  const redis = new Redis(inject('redisUrl'));
  const box = new FakeGpuBox([{ index: 0, uuid: UUID, name: 'NVIDIA L4', totalMb: TOTAL_MB, foreignMb: STRANGER_MB }]);
  // The test's own process is one more container of the box (its manager reads the same fake nvidia-smi).
  const manager = new RedisGpuManager({
    redis: new Redis(inject('redisUrl')),
    prefix,
    inventory: new NvidiaSmiInventory({ host: BOX_ID, cacheMs: 0, run: box.run }),
    profiles: new ModelProfiles(undefined),
    leaseTtlMs: ttlMs,
    log: createLogger('gpu-test', 'silent'),
    ownsConnection: true,
  });
  cleanups.push(async () => {
    await manager.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
    box.remove();
  });
  const container = (extra: Record<string, string>) => {
    const p = spawnScript('tests/support/gpu-container.ts', {
      REDIS_URL: inject('redisUrl'),
      VOXQ_PREFIX: prefix,
      VOXQ_HOST_ID: BOX_ID,
      VOXQ_GPU_LEASE_TTL_MS: String(ttlMs),
      VOXQ_LOG_LEVEL: 'info',
      ...box.env(),
      ...extra,
    });
    processes.push(p);
    return p;
  };
  /** Every reservation on the card, whatever host id a ledger was kept under. */
  const reservedEverywhere = async () => {
    const keys = await redis.keys(`${prefix}:gpu:*:${UUID}:mb`);
    const sums = await Promise.all(keys.map(async (key) => (await redis.hvals(key)).reduce((sum, mb) => sum + Number(mb), 0)));
    return { keys, mb: sums.reduce((a, b) => a + b, 0) };
  };
  return { prefix, redis, box, manager, container, reservedEverywhere };
}

describe('containers sharing one GPU box', () => {
  it('never reserve more than the card has while three of them churn, all in the one ledger of the box', async () => {
    const { container, reservedEverywhere } = setup(3000);
    const containers = [0, 1, 2].map(() => container({ CONTAINER_MODE: 'churn', CONTAINER_LOOPS: '3', CONTAINER_SIZES: '512,1024,2048,1536' }));
    await Promise.all(containers.map((c) => c.waitForLog('container ready')));

    const violations: string[] = [];
    let samples = 0;
    let maxMb = 0;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const { keys, mb } = await reservedEverywhere();
      if (keys.length > 1) violations.push(`ledgers under ${keys.length} host ids`);
      if (mb > TOTAL_MB) violations.push(`${mb} MB reserved of ${TOTAL_MB} MB`);
      maxMb = Math.max(maxMb, mb);
      samples += 1;
    }
    const figures = (await Promise.all(containers.map(stopScript))).map((out) => JSON.parse(out.trim().split('\n').pop() ?? '{}') as { granted: number; refused: number });
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(20);
    // Contended: the card was nearly full at times, memory was short, and every container got some.
    expect(maxMb).toBeGreaterThan(TOTAL_MB / 2);
    expect(figures.every((f) => f.granted > 0)).toBe(true);
    expect(figures.reduce((sum, f) => sum + f.refused, 0)).toBeGreaterThan(0);
    expect((await reservedEverywhere()).mb).toBe(0);
  });

  it('counts a container’s memory once, and gives a SIGKILLed container’s memory back within the lease TTL', async () => {
    const ttlMs = 1500;
    const { container, manager } = setup(ttlMs);
    const holder = container({ CONTAINER_MODE: 'hold', CONTAINER_MB: '4000' });
    await holder.waitForLog('gpu lease held');
    // nvidia-smi: used = 1024 (stranger) + 4000 (the container), its pid unknown here. Counted once:
    // free = 8192 − 1024 − 4000 = 3168 (counting it twice, as foreign too, would leave nothing).
    await expect.poll(async () => (await manager.memoryUsage())[0], { timeout: 5000 }).toMatchObject({ foreignMb: STRANGER_MB, reservedMb: 4000, freeMb: 3168 });
    expect(await manager.allocate('probe', 3169)).toMatchObject({ ok: false, freeMb: 3168 });
    const fits = await manager.allocate('probe', 3168);
    if (!fits.ok) throw new Error(fits.reason);
    await fits.lease.release();

    holder.kill('SIGKILL');
    await holder.exited;
    const killedAt = Date.now();
    // The box frees the dead process's memory at once; its lease holds the reservation until it expires.
    expect(await manager.allocate('after-kill', 4000)).toMatchObject({ ok: false });
    await expect
      .poll(
        async () => {
          const result = await manager.allocate('after-kill', 7168);
          if (result.ok) await result.lease.release();
          return result.ok;
        },
        { timeout: ttlMs + 3000, interval: 50 },
      )
      .toBe(true);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(ttlMs + 500);
    // The stranger's memory still counts: the card's 8192 MB minus it, no more.
    expect(await manager.allocate('too-much', 7169)).toMatchObject({ ok: false, freeMb: 7168 });
  });

  it('tells a container that names the box otherwise than its neighbours (a ledger of its own for the same card)', async () => {
    const { container } = setup(1500);
    const right = container({ CONTAINER_MODE: 'hold', CONTAINER_MB: '1000' });
    const wrong = container({ CONTAINER_MODE: 'hold', CONTAINER_MB: '1000', VOXQ_HOST_ID: 'container-7f3a' });
    await Promise.all([right.waitForLog('gpu lease held'), wrong.waitForLog('gpu lease held')]);
    const warning = await wrong.waitForLog('gpu card published under another host id: containers sharing a GPU box must all set its VOXQ_HOST_ID (or mount its /etc/machine-id)');
    expect(warning).toMatchObject({ gpuUuid: UUID, hostId: 'container-7f3a', otherHostId: BOX_ID });
  });
});
