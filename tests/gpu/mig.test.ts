// MIG: a card in MIG mode is offered as its MIG devices, never whole. nvidia-smi output from
// fixtures (tests/fixtures/nvidia-smi/mig.*, constructed from NVIDIA's documented formats) served
// by the fake nvidia-smi: the inventory, --gpu (a MIG uuid; all; a MIG card's index refused),
// reservations per slice, a worker process pinned to a slice, and `voxq gpus`'s rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { InputError } from '../../src/shared/errors.js';
import { cudaVisibleDevices, selectGpus } from '../../src/shared/gpu/gpu-selector.js';
import { formatGpuTable, gpuRows } from '../../src/shared/gpu/gpus-command.js';
import { expandMigCards, parseMigList, parseMigTable } from '../../src/shared/gpu/mig-parser.js';
import { ModelProfiles } from '../../src/shared/gpu/model-profiles.js';
import { NvidiaSmiInventory } from '../../src/shared/gpu/nvidia-smi-inventory.js';
import { RedisGpuManager } from '../../src/shared/gpu/redis-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { stopProcesses } from '../support/e2e-cleanup.js';
import { FakeGpuBox } from '../support/fake-gpu-box.js';
import { deletePrefix, gpuTestPrefix } from '../support/gpu-ledger.js';
import { spawnScript } from '../support/script-process.js';
import type { VoxqProcess } from '../support/voxq-process.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'nvidia-smi');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const PARENT = 'GPU-0b8a3f2c-7d1e-4a59-b6c3-e2f1a0d9c8b7';
const SLICES = ['MIG-4f1d5e8a-2b6c-5d3e-9f7a-1c2b3d4e5f60', 'MIG-7a8b9c0d-1e2f-5a3b-8c4d-5e6f7a8b9c0d', 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f'] as const;
const WHOLE = 'GPU-91d2c4e6-0a3b-4f7c-8e5d-b1a2c3d4e5f6';
const BOX_ID = 'mig-box';

const processes: VoxqProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopProcesses(processes);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function migBox(): FakeGpuBox {
  const box = new FakeGpuBox();
  box.serve('query-gpu.csv', 'mig.query-gpu.csv');
  box.serve('compute-apps.csv', 'mig.compute-apps.csv');
  box.serve('list.txt', 'mig.list.txt');
  box.serve('table.txt', 'mig.table.txt');
  cleanups.push(() => Promise.resolve(box.remove()));
  return box;
}

describe('MIG parsing', () => {
  it('reads MIG devices from nvidia-smi -L (R470+ and older uuids) and their memory from the MIG devices table', () => {
    const listed = parseMigList(fixture('mig.list.txt'));
    expect(listed.map((g) => [g.index, g.uuid, g.devices.length])).toEqual([
      [0, PARENT, 3],
      [1, WHOLE, 0],
    ]);
    expect(listed[0]?.devices).toEqual([
      { device: 0, profile: '3g.20gb', uuid: SLICES[0] },
      { device: 1, profile: '2g.10gb', uuid: SLICES[1] },
      { device: 2, profile: '1g.5gb', uuid: SLICES[2] },
    ]);
    const old = parseMigList(`GPU 0: A100-SXM4-40GB (UUID: ${PARENT})\n  MIG 1g.5gb Device 0: (UUID: MIG-${PARENT}/13/0)\n`);
    expect(old[0]?.devices[0]).toEqual({ device: 0, profile: '1g.5gb', uuid: `MIG-${PARENT}/13/0` });
    expect(() => parseMigList('GPU zero: what')).toThrow(/unexpected nvidia-smi -L output/);

    expect(parseMigTable(fixture('mig.table.txt'))).toEqual([
      { gpuIndex: 0, gpuInstanceId: 1, computeInstanceId: 0, device: 0, usedMb: 11, totalMb: 20096 },
      { gpuIndex: 0, gpuInstanceId: 5, computeInstanceId: 0, device: 1, usedMb: 7, totalMb: 9984 },
      { gpuIndex: 0, gpuInstanceId: 13, computeInstanceId: 0, device: 2, usedMb: 1031, totalMb: 4864 },
    ]);
    expect(parseMigTable(readFileSync(join(FIXTURES, 'one-gpu.query-gpu.csv'), 'utf8'))).toEqual([]);
  });

  it('never offers a card in MIG mode whole, and says so when it has no MIG device', () => {
    const card = { host: 'h', index: 0, uuid: PARENT, name: 'A100', totalMb: 40960, usedMb: 0, utilizationPct: null, migMode: 'enabled' as const, simulated: false };
    expect(expandMigCards([card], [{ index: 0, uuid: PARENT, name: 'A100', devices: [] }], [])).toEqual({
      cards: [],
      problems: [`GPU 0 (${PARENT}) is in MIG mode with no MIG device: voxq offers none of it`],
    });
  });
});

describe('MIG devices as cards', () => {
  it('lists each MIG device as a card with its uuid, profile and memory, pins to one, and reserves per slice', async () => {
    const box = migBox();
    const inventory = await new NvidiaSmiInventory({ host: BOX_ID, cacheMs: 0, run: box.run }).read();
    expect(inventory.cards.map((c) => [c.index, c.uuid, c.name, c.totalMb, c.usedMb])).toEqual([
      [0, SLICES[0], 'NVIDIA A100-SXM4-40GB MIG 3g.20gb', 20096, 11],
      [0, SLICES[1], 'NVIDIA A100-SXM4-40GB MIG 2g.10gb', 9984, 7],
      [0, SLICES[2], 'NVIDIA A100-SXM4-40GB MIG 1g.5gb', 4864, 1031],
      [1, WHOLE, 'NVIDIA A100-SXM4-40GB', 40960, 5],
    ]);
    expect(inventory.cards[2]?.mig).toEqual({ parentUuid: PARENT, profile: '1g.5gb', device: 2, gpuInstanceId: 13, computeInstanceId: 0 });

    // --gpu: a MIG uuid pins to the slice (CUDA_VISIBLE_DEVICES names it), all spreads over the slices, the card's index is refused.
    const [slice] = selectGpus(SLICES[2], inventory);
    expect(slice?.uuid).toBe(SLICES[2]);
    expect(cudaVisibleDevices(slice!)).toBe(SLICES[2]);
    expect(selectGpus('all', inventory).map((c) => c.uuid)).toEqual([...SLICES, WHOLE]);
    expect(selectGpus('1', inventory).map((c) => c.uuid)).toEqual([WHOLE]);
    expect(() => selectGpus('0', inventory)).toThrow(InputError);
    expect(() => selectGpus('0', inventory)).toThrow(`--gpu 0: GPU 0 is in MIG mode and is never offered whole; pin to one of its MIG devices: ${SLICES[0]} (3g.20gb), ${SLICES[1]} (2g.10gb), ${SLICES[2]} (1g.5gb)`);

    // Reservations are per slice: the 1g.5gb slice has 4864 − 1031 (a stranger's) = 3833 MB; the others are untouched.
    const prefix = gpuTestPrefix();
    const redis = new Redis(inject('redisUrl'));
    const manager = new RedisGpuManager({
      redis: redis.duplicate(),
      prefix,
      inventory: new NvidiaSmiInventory({ host: BOX_ID, cacheMs: 0, run: box.run }),
      profiles: new ModelProfiles(undefined),
      leaseTtlMs: 10_000,
      log: createLogger('gpu-test', 'silent'),
      ownsConnection: true,
    });
    cleanups.push(async () => {
      await manager.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    });
    expect(await manager.allocate('tts', 3834, { gpuUuid: SLICES[2] })).toMatchObject({ ok: false, freeMb: 3833 });
    const small = await manager.allocate('tts', 3833, { gpuUuid: SLICES[2] });
    expect(small.ok && small.lease.gpuUuid).toBe(SLICES[2]);
    expect(await manager.allocate('x', 1, { gpuUuid: PARENT })).toMatchObject({ ok: false, code: 'unknown_gpu' });
    // Unpinned, a request goes to the first card it fits on: a slice, never the MIG card whole.
    const big = await manager.allocate('llm', 15_000);
    expect(big.ok && big.lease.gpuUuid).toBe(SLICES[0]);
    const usage = await manager.memoryUsage();
    expect(usage.map((u) => [u.uuid, u.reservedMb, u.freeMb])).toEqual([
      [SLICES[0], 15_000, 5085],
      [SLICES[1], 0, 9977],
      [SLICES[2], 3833, 0],
      [WHOLE, 0, 40_955],
    ]);

    // A worker process pinned to a slice (--gpu MIG-…) through the same nvidia-smi; `voxq gpus` lists slices.
    const holder = spawnScript('tests/support/gpu-holder.ts', {
      REDIS_URL: inject('redisUrl'),
      VOXQ_PREFIX: prefix,
      VOXQ_HOST_ID: BOX_ID,
      VOXQ_LOG_LEVEL: 'info',
      HOLDER_GPU: SLICES[1],
      HOLDER_MB: '4096',
      ...box.env(),
    });
    processes.push(holder);
    await holder.waitForLog('gpu lease held');
    await manager.publish();
    const rows = await gpuRows(manager.ledger);
    expect(rows.map((r) => [r.index, r.mig?.device ?? null, r.uuid, r.reservedMb, r.holders.map((h) => h.serviceId)])).toEqual([
      [0, 0, SLICES[0], 15_000, ['llm']],
      [0, 1, SLICES[1], 4096, ['holder']],
      [0, 2, SLICES[2], 3833, ['tts']],
      [1, null, WHOLE, 0, []],
    ]);
    const table = formatGpuTable(rows).split('\n');
    expect(table[2]).toMatch(new RegExp(`^${BOX_ID}\\s+0:1\\s+${SLICES[1]}\\s+NVIDIA A100-SXM4-40GB MIG 2g\\.10gb\\s+9984\\s+7\\s+5881\\s+4096\\s+holder pid ${holder.child.pid} 4096 MB$`));
  });
});
