// The GpuManager on the real Redis (a unique prefix per test): the seed's calls, the free-memory
// definition, atomic allocation, idempotent release, expiry, gauges, and the pieces it is built
// from (simulated inventory, model profiles, --gpu selection).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/shared/config.js';
import { InputError } from '../../src/shared/errors.js';
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { selectGpus, cudaVisibleDevices } from '../../src/shared/gpu/gpu-selector.js';
import type { GpuInventorySource } from '../../src/shared/gpu/inventory-source.js';
import { ModelProfiles, parseGpuProfiles } from '../../src/shared/gpu/model-profiles.js';
import { GPU_FREE_GAUGE, GPU_RESERVED_GAUGE, RedisGpuManager, type QueuedAllocation } from '../../src/shared/gpu/redis-gpu-manager.js';
import { ReservationLedger } from '../../src/shared/gpu/reservation-ledger.js';
import { parseSimulatedGpus, SimulatedInventory } from '../../src/shared/gpu/simulated-inventory.js';
import { createLogger } from '../../src/shared/logger.js';
import { isGpuManager, type AllocateResult, type GpuInventory } from '../../src/shared/ports/gpu-manager.js';
import { deletePrefix, gpuTestPrefix, reservedMb } from '../support/gpu-ledger.js';
import { RecordingMetrics } from '../support/pipeline.js';

const log = createLogger('gpu-test', 'silent');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(options: { gpus?: string; inventory?: GpuInventorySource; ttlMs?: number; profiles?: string } = {}) {
  const prefix = gpuTestPrefix();
  const redis = new Redis(inject('redisUrl'));
  const metrics = new RecordingMetrics();
  const manager = new RedisGpuManager({
    redis,
    prefix,
    inventory: options.inventory ?? new SimulatedInventory(options.gpus ?? '0:Sim A:8192,1:Sim B:4096', hostname()),
    profiles: new ModelProfiles(options.profiles),
    leaseTtlMs: options.ttlMs ?? 10_000,
    metrics,
    log,
  });
  cleanups.push(async () => {
    await manager.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  return { prefix, redis, manager, metrics };
}

/** Reads the inventory object as it is at each read (a test changes what nvidia-smi would say). */
const liveInventory = (inventory: GpuInventory): GpuInventorySource => ({ read: () => Promise.resolve(structuredClone(inventory)) });

describe('simulated inventory, profiles and --gpu', () => {
  it('parses VOXQ_GPUS into simulated cards with stable uuids, and names a bad entry', () => {
    const cards = parseSimulatedGpus('0:NVIDIA L4:23034, 1:NVIDIA L4:23034', 'h1');
    expect(cards).toEqual([
      expect.objectContaining({ host: 'h1', index: 0, uuid: 'GPU-simulated-0000', name: 'NVIDIA L4', totalMb: 23034, simulated: true }),
      expect.objectContaining({ index: 1, uuid: 'GPU-simulated-0001', simulated: true }),
    ]);
    expect(() => parseSimulatedGpus('0:L4', 'h')).toThrow(/VOXQ_GPUS: "0:L4" is not index:name:totalMb/);
    expect(() => parseSimulatedGpus('0:L4:1,0:L4:2', 'h')).toThrow(/index 0 appears twice/);
  });

  it('names the machine by VOXQ_HOST_ID, else its machine id, else its hostname, and refuses a host id unfit for key names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxq-host-id-'));
    const machineId = join(dir, 'machine-id');
    writeFileSync(machineId, '3D1219C7C4C5404AAA1F6D2A48ADFDA4\n');
    expect(resolveHostId({ configured: 'gpu-box-7', machineIdPath: machineId, hostname: () => 'container-1' })).toBe('gpu-box-7');
    expect(resolveHostId({ machineIdPath: machineId, hostname: () => 'container-1' })).toBe('3d1219c7c4c5404aaa1f6d2a48adfda4');
    // An empty machine-id (as in many images) or none says nothing.
    writeFileSync(machineId, '\n');
    expect(resolveHostId({ machineIdPath: machineId, hostname: () => 'container-1' })).toBe('container-1');
    expect(resolveHostId({ machineIdPath: join(dir, 'missing'), hostname: () => 'container-1' })).toBe('container-1');
    rmSync(dir, { recursive: true });
    expect(configSchema.parse({ VOXQ_HOST_ID: ' gpu-box-7 ' }).VOXQ_HOST_ID).toBe('gpu-box-7');
    expect(() => loadConfig({ VOXQ_HOST_ID: 'box:{1}' })).toThrow(/VOXQ_HOST_ID/);
  });

  it('reads model profiles with defaults, overrides and model names holding colons or slashes', () => {
    const profiles = new ModelProfiles('kokoro:2000:300,hexgrad/Kokoro-82M:900:100');
    expect(profiles.find('kokoro')).toEqual({ model: 'kokoro', residentMb: 2000, jobMb: 300 });
    expect(profiles.find('hexgrad/Kokoro-82M')?.residentMb).toBe(900);
    expect(profiles.find('fake-tts', 'fake')).toMatchObject({ model: 'fake' });
    expect(profiles.find('openai/gpt-oss-20b', 'groq')).toMatchObject({ residentMb: 0, jobMb: 0 });
    expect(profiles.find('unknown-model', 'unknown')).toBeUndefined();
    expect(() => parseGpuProfiles('kokoro:lots:1')).toThrow(/VOXQ_GPU_PROFILES: "kokoro:lots:1"/);
  });

  it('selects cards by index, uuid (or its prefix) and all, and names the cards when none matches', async () => {
    const inventory = await new SimulatedInventory('0:A:100,1:B:200', 'h').read();
    expect(selectGpus('1', inventory).map((c) => c.name)).toEqual(['B']);
    expect(selectGpus('GPU-simulated-0000', inventory).map((c) => c.name)).toEqual(['A']);
    expect(selectGpus('all', inventory)).toHaveLength(2);
    expect(() => selectGpus('7', inventory)).toThrow(InputError);
    expect(() => selectGpus('7', inventory)).toThrow(/--gpu 7: no such GPU on h; cards: 0 \(GPU-simulated-0000\), 1 \(GPU-simulated-0001\)/);
    expect(cudaVisibleDevices(inventory.cards[1]!)).toBe('1');
    expect(cudaVisibleDevices({ ...inventory.cards[1]!, simulated: false, uuid: 'GPU-abc' })).toBe('GPU-abc');
  });
});

describe('RedisGpuManager', () => {
  it('is a GpuManager (the type guard rejects an object missing a method)', () => {
    const { manager } = setup();
    expect(isGpuManager(manager)).toBe(true);
    expect(isGpuManager({ ...manager, allocate: undefined })).toBe(false);
    expect(isGpuManager(null)).toBe(false);
  });

  it('answers the seed calls: availability, info, memory usage, allocate with a reason, release', async () => {
    const { manager } = setup();
    expect(await manager.isAvailable()).toBe(true);
    expect((await manager.info()).cards.map((c) => c.uuid)).toEqual(['GPU-simulated-0000', 'GPU-simulated-0001']);

    const big = await manager.allocate('tts:kokoro', 6000);
    expect(big.ok && big.lease).toMatchObject({ serviceId: 'tts:kokoro', gpuUuid: 'GPU-simulated-0000', requiredMb: 6000, pid: process.pid });
    // Does not fit on card 0 any more: the manager tries card 1.
    const second = await manager.allocate('stt:whisper', 3000);
    expect(second.ok && second.lease.gpuUuid).toBe('GPU-simulated-0001');
    const refused = await manager.allocate('llm:big', 5000);
    expect(refused).toEqual({ ok: false, code: 'insufficient_memory', reason: '5000 MB does not fit on any of 2 GPUs: 2192 MB free', freeMb: 2192 });
    const pinnedRefusal = await manager.allocate('x', 3000, { gpuUuid: 'GPU-simulated-0000' });
    expect(pinnedRefusal.ok || pinnedRefusal.reason).toBe('3000 MB does not fit on GPU 0 (GPU-simulated-0000): 2192 MB free');
    expect(await manager.allocate('x', 1, { gpuUuid: 'GPU-nope' })).toMatchObject({ ok: false, code: 'unknown_gpu' });

    expect(await manager.memoryUsage()).toEqual([
      expect.objectContaining({ uuid: 'GPU-simulated-0000', totalMb: 8192, reservedMb: 6000, foreignMb: 0, freeMb: 2192, simulated: true }),
      expect.objectContaining({ uuid: 'GPU-simulated-0001', totalMb: 4096, reservedMb: 3000, freeMb: 1096 }),
    ]);
    expect((await manager.leases()).map((l) => l.serviceId).sort()).toEqual(['stt:whisper', 'tts:kokoro']);

    if (!big.ok) throw new Error('unreachable');
    await big.lease.release();
    await big.lease.release();
    await manager.release(big.lease.id);
    await manager.release('never-existed');
    expect((await manager.memoryUsage())[0]?.reservedMb).toBe(0);
  });

  it('is atomic: 40 allocations at once of 1000 MB on an 8192 MB card, exactly 8 succeed', async () => {
    const { manager } = setup({ gpus: '0:Sim:8192' });
    const results = await Promise.all(Array.from({ length: 40 }, () => manager.allocate('race', 1000)));
    expect(results.filter((r) => r.ok)).toHaveLength(8);
    expect((await manager.memoryUsage())[0]?.reservedMb).toBe(8000);
  });

  it('defines free as total − foreign − reservations, foreign = used − reservations, whatever the pids say', async () => {
    const uuid = 'GPU-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
    // A stranger uses 7000 MB. nvidia-smi lists pids from another pid namespace (a container's view):
    // none of them is this process's, and none is matched against anything.
    const card = { host: 'gpu-host', index: 0, uuid, name: 'NVIDIA L4', totalMb: 23034, usedMb: 7000, utilizationPct: 10, migMode: 'disabled' as const, simulated: false };
    const inventory: GpuInventory = {
      host: 'gpu-host',
      simulated: false,
      cards: [card],
      processes: [{ gpuUuid: uuid, pid: 4_000_001, usedMb: 7000 }],
      problems: [],
    };
    const { manager } = setup({ inventory: liveInventory(inventory), ttlMs: 60_000 });
    const lease = await manager.allocate('tts:kokoro', 2500);
    expect(lease.ok).toBe(true);
    expect(await manager.memoryUsage()).toEqual([
      { host: 'gpu-host', index: 0, uuid, totalMb: 23034, foreignMb: 7000, reservedMb: 2500, freeMb: 13534, simulated: false },
    ]);
    // The model loaded: its 2500 MB and a 400 MB CUDA context show in used. The reservation counts once; the context is not
    // reserved, so it counts as foreign.
    card.usedMb = 7000 + 2500 + 400;
    inventory.processes.push({ gpuUuid: uuid, pid: 4_000_002, usedMb: 2900 });
    expect(await manager.memoryUsage()).toEqual([expect.objectContaining({ foreignMb: 7400, reservedMb: 2500, freeMb: 13134 })]);
    expect(await manager.allocate('more', 13135)).toMatchObject({ ok: false, freeMb: 13134 });
    // The stranger exits; the highest reading of the lease TTL still holds (a reading can lag what voxq fills).
    card.usedMb = 2500 + 400;
    expect(await manager.allocate('more', 13135)).toMatchObject({ ok: false, freeMb: 13134 });
    const fits = await manager.allocate('more', 13134);
    expect(fits.ok).toBe(true);
  });

  it('forgets a foreign reading after one lease TTL, and reads foreign from the processes when used is [N/A]', async () => {
    const uuid = 'GPU-2b3c4d5e-6f70-4a8b-9cad-1e2f3a4b5c6d';
    const card = { host: 'h', index: 0, uuid, name: 'NVIDIA L4', totalMb: 10_000, usedMb: 3000 as number | null, utilizationPct: null, migMode: null, simulated: false };
    const inventory: GpuInventory = { host: 'h', simulated: false, cards: [card], processes: [], problems: [] };
    const { manager } = setup({ inventory: liveInventory(inventory), ttlMs: 300 });
    expect(await manager.allocate('a', 7001)).toMatchObject({ ok: false, freeMb: 7000 });
    card.usedMb = 0;
    // Held for one TTL (300 ms), then the lower reading is taken.
    expect(await manager.allocate('a', 7001)).toMatchObject({ ok: false, freeMb: 7000 });
    await expect.poll(async () => (await manager.allocate('probe', 9000)).ok, { timeout: 3000, interval: 50 }).toBe(true);
    // used [N/A]: the compute processes' memory stands for it (no pid matched).
    const other = setup({ inventory: { read: () => Promise.resolve({ ...structuredClone(inventory), cards: [{ ...card, usedMb: null }], processes: [{ gpuUuid: uuid, pid: 1, usedMb: 4000 }] }) } });
    expect(await other.manager.allocate('b', 6001)).toMatchObject({ ok: false, freeMb: 6000 });
  });

  it('reports reserved and free MB per card as gauges tagged host, gpu_uuid, gpu_index', async () => {
    const { manager, metrics } = setup({ gpus: '0:Sim:8192' });
    const result = await manager.allocate('tts', 1024);
    const tags = { host: hostname(), gpu_uuid: 'GPU-simulated-0000', gpu_index: 0 };
    expect(metrics.calls).toContainEqual({ kind: 'gauge', name: GPU_RESERVED_GAUGE, value: 1024, tags });
    expect(metrics.calls).toContainEqual({ kind: 'gauge', name: GPU_FREE_GAUGE, value: 7168, tags });
    if (result.ok) await result.lease.release();
    expect(metrics.calls.at(-2)).toEqual({ kind: 'gauge', name: GPU_RESERVED_GAUGE, value: 0, tags });
    expect(metrics.calls.at(-1)).toEqual({ kind: 'gauge', name: GPU_FREE_GAUGE, value: 8192, tags });
  });

  it('recommends cuda when a card holds the model’s profile, else cpu with the reason', async () => {
    const { manager } = setup({ gpus: '0:Sim:2048', profiles: 'kokoro:1024:512,big:4000:1000' });
    expect(await manager.recommendedBackend('kokoro')).toMatchObject({ backend: 'cuda', gpuUuid: 'GPU-simulated-0000' });
    expect(await manager.recommendedBackend('big')).toEqual({ backend: 'cpu', reason: 'big needs 5000 MB; the freest GPU (0, GPU-simulated-0000) has 2048 MB free' });
    expect((await manager.recommendedBackend('mystery')).reason).toMatch(/no GPU memory profile for model mystery/);
    await manager.allocate('other', 1000);
    expect(await manager.recommendedBackend('kokoro')).toMatchObject({ backend: 'cpu' });
  });

  it('lets an unrenewed lease expire, and leaves no key behind once the last lease is gone', async () => {
    const { redis, prefix } = setup();
    const ledger = new ReservationLedger(redis, prefix);
    const card = { host: 'h', uuid: 'GPU-x' };
    const request = { card, requiredMb: 500, totalMb: 1000, ttlMs: 200, meta: {}, pid: 1, usedMb: null };
    expect((await ledger.allocate({ ...request, leaseId: 'a' })).ok).toBe(true);
    expect((await ledger.allocate({ ...request, leaseId: 'b' })).ok).toBe(true);
    expect((await ledger.allocate({ ...request, leaseId: 'c' })).ok).toBe(false);
    // Renewing an existing lease never fails for lack of room; a new one still does.
    expect(await ledger.allocate({ ...request, leaseId: 'a', ttlMs: 5000 })).toMatchObject({ ok: true, existed: true });
    await expect.poll(async () => (await ledger.snapshot(card)).map((l) => l.id), { timeout: 3000, interval: 20 }).toEqual(['a']);
    expect((await ledger.allocate({ ...request, leaseId: 'c' })).ok).toBe(true);
    expect(await ledger.release(card, 'a')).toEqual({ removed: true, reservedMb: 500 });
    expect(await ledger.release(card, 'a')).toEqual({ removed: false, reservedMb: 500 });
    // The keys live as long as the longest lease they held (5 s here), then go on their own.
    await expect.poll(() => redis.exists(...ledger.keys(card)), { timeout: 8000, interval: 50 }).toBe(0);
  });
});

describe('waiting for memory on a card’s list', () => {
  const uuid = 'GPU-simulated-0000';
  const held = (result: AllocateResult | QueuedAllocation) => {
    if (!result.ok) throw new Error(result.reason);
    return result.lease;
  };

  it('hands freed memory to the waiting request in the release itself; a smaller newcomer may fill what is left', async () => {
    const { manager, redis, prefix } = setup({ gpus: '0:Sim:1000' });
    const big = held(await manager.allocate('big', 800));
    const waiting = await manager.allocateOrQueue('waiter', 500, { waitMs: 5000, gpuUuid: uuid });
    expect(waiting).toMatchObject({ ok: false, code: 'queued', freeMb: 200 });
    // 200 MB are free: a 150 MB newcomer passes the 500 MB waiter, which does not fit yet.
    const small = held(await manager.allocateOrQueue('small', 150, { waitMs: 5000, gpuUuid: uuid }));
    expect(await reservedMb(redis, prefix, hostname(), 0)).toBe(950);

    await big.release();
    // The release granted it: reserved at once, before the waiter even heard.
    expect(await reservedMb(redis, prefix, hostname(), 0)).toBe(650);
    if (waiting.ok || waiting.code !== 'queued') throw new Error('not queued');
    const granted = held(await waiting.granted);
    expect(granted).toMatchObject({ serviceId: 'waiter', requiredMb: 500, gpuUuid: uuid });
    expect((await manager.leases()).map((l) => l.serviceId).sort()).toEqual(['small', 'waiter']);
    await granted.release();
    await small.release();
    expect(await redis.exists(...new ReservationLedger(redis, prefix).keys({ host: hostname(), uuid }))).toBe(0);
  });

  it('lets nothing pass a request that has waited past strictAfterMs', async () => {
    const { manager } = setup({ gpus: '0:Sim:1000' });
    const big = held(await manager.allocate('big', 900));
    const waiting = await manager.allocateOrQueue('waiter', 500, { waitMs: 5000, strictAfterMs: 0, gpuUuid: uuid });
    expect(waiting).toMatchObject({ code: 'queued' });
    // 100 MB are free, but the waiter comes first now.
    expect(await manager.allocate('small', 50)).toMatchObject({ ok: false, code: 'insufficient_memory' });
    await big.release();
    if (waiting.ok || waiting.code !== 'queued') throw new Error('not queued');
    expect((await waiting.granted).ok).toBe(true);
    expect((await manager.allocate('small', 50)).ok).toBe(true);
  });

  it('withdraws a request whose wait runs out or is cancelled, and never queues one the card cannot hold', async () => {
    const { manager, redis, prefix } = setup({ gpus: '0:Sim:1000' });
    const big = held(await manager.allocate('big', 900));
    const started = Date.now();
    const runsOut = await manager.allocateOrQueue('waiter', 500, { waitMs: 300, gpuUuid: uuid });
    if (runsOut.ok || runsOut.code !== 'queued') throw new Error('not queued');
    const ranOut = await runsOut.granted;
    expect(ranOut).toMatchObject({ ok: false, code: 'insufficient_memory' });
    expect(ranOut.ok ? '' : ranOut.reason).toMatch(/none freed within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    const cancelled = await manager.allocateOrQueue('waiter', 500, { waitMs: 60_000, gpuUuid: uuid });
    if (cancelled.ok || cancelled.code !== 'queued') throw new Error('not queued');
    cancelled.cancel();
    expect((await cancelled.granted).ok).toBe(false);
    expect(await manager.allocateOrQueue('huge', 1001, { waitMs: 5000, gpuUuid: uuid })).toMatchObject({ ok: false, code: 'insufficient_memory' });
    // Nothing waits any more, so a release hands nothing over.
    await big.release();
    expect(await reservedMb(redis, prefix, hostname(), 0)).toBe(0);
  });

  it('hands over memory that came back by expiry (a holder that died) when the wait ends', async () => {
    const { manager, redis, prefix } = setup({ gpus: '0:Sim:1000' });
    const ledger = new ReservationLedger(redis, prefix);
    const card = { host: hostname(), uuid };
    await ledger.allocate({ card, leaseId: 'dead', requiredMb: 900, totalMb: 1000, ttlMs: 150, meta: {}, pid: 1, usedMb: null });
    const waiting = await manager.allocateOrQueue('waiter', 500, { waitMs: 600, gpuUuid: uuid });
    if (waiting.ok || waiting.code !== 'queued') throw new Error('not queued');
    // No release announces an expiry; the wait's end finds the memory free and takes it.
    const granted = held(await waiting.granted);
    expect((await ledger.snapshot(card)).map((l) => l.id)).toEqual([granted.id]);
    await granted.release();
  });

  it('ends its waits when it closes, leaving nothing queued or reserved', async () => {
    const { manager, redis, prefix } = setup({ gpus: '0:Sim:1000' });
    const inventory = new SimulatedInventory('0:Sim:1000', hostname());
    const waiter = new RedisGpuManager({ redis: redis.duplicate(), prefix, inventory, profiles: new ModelProfiles(undefined), leaseTtlMs: 10_000, log, ownsConnection: true });
    const big = held(await manager.allocate('big', 900));
    const waiting = await waiter.allocateOrQueue('waiter', 500, { waitMs: 60_000, gpuUuid: uuid });
    if (waiting.ok || waiting.code !== 'queued') throw new Error('not queued');
    await waiter.close();
    expect((await waiting.granted).ok).toBe(false);
    await big.release();
    expect(await reservedMb(redis, prefix, hostname(), 0)).toBe(0);
    expect(await redis.exists(...new ReservationLedger(redis, prefix).keys({ host: hostname(), uuid }))).toBe(0);
  });
});
