// `voxq gpus` and `voxq worker --gpu …` as users run them (the built CLI in its own processes).
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { FakeGpuBox } from '../support/fake-gpu-box.js';
import { deletePrefix, gpuTestPrefix, reservedMb } from '../support/gpu-ledger.js';
import { testMongoUrl } from '../support/mongo.js';
import { spawnScript } from '../support/script-process.js';
import { spawnVoxq, type VoxqProcess } from '../support/voxq-process.js';
import { stopProcesses } from '../support/e2e-cleanup.js';

const GPUS = '0:NVIDIA L4:23034,1:NVIDIA L4:23034';
const processes: VoxqProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await stopProcesses(processes);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function context() {
  const prefix = gpuTestPrefix();
  const redis = new Redis(inject('redisUrl'));
  cleanups.push(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  const env = { REDIS_URL: inject('redisUrl'), VOXQ_PREFIX: prefix, VOXQ_GPUS: GPUS, VOXQ_LOG_LEVEL: 'info' };
  const voxq = (args: string[], extra: Record<string, string> = {}) => {
    const p = spawnVoxq(args, { ...env, ...extra });
    processes.push(p);
    return p;
  };
  return { prefix, redis, env, voxq };
}

describe('voxq gpus', () => {
  it('lists every card marked simulated, with what voxq reserved on it and for whom', async () => {
    const { env, voxq } = context();
    const holder = spawnScript('tests/support/gpu-holder.ts', { ...env, HOLDER_GPU: '1', HOLDER_MB: '4096' });
    processes.push(holder);
    await holder.waitForLog('gpu lease held');

    const table = voxq(['gpus']);
    expect(await table.exited).toBe(0);
    const lines = table.stdout().trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+GPU\s+UUID\s+NAME\s+TOTAL MB\s+USED MB\s+FREE MB\s+RESERVED MB\s+RESERVED FOR$/);
    expect(lines[1]).toMatch(new RegExp(`^${resolveHostId()}\\s+0\\s+GPU-simulated-0000\\s+NVIDIA L4 \\(simulated\\)\\s+23034\\s+0\\s+23034\\s+0\\s+-$`));
    expect(lines[2]).toMatch(new RegExp(`^${resolveHostId()}\\s+1\\s+GPU-simulated-0001\\s+NVIDIA L4 \\(simulated\\)\\s+23034\\s+0\\s+18938\\s+4096\\s+holder pid ${holder.child.pid} 4096 MB$`));

    const json = voxq(['gpus', '--json']);
    expect(await json.exited).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { gpus: { uuid: string; simulated: boolean; reservedMb: number; freeMb: number }[] };
    expect(parsed.gpus.map((g) => [g.uuid, g.simulated, g.reservedMb, g.freeMb])).toEqual([
      ['GPU-simulated-0000', true, 0, 23034],
      ['GPU-simulated-0001', true, 4096, 18938],
    ]);
  });
});

describe('voxq gpus on a host with a card in MIG mode', () => {
  it('lists each MIG device as a card of its own, and never the card whole', async () => {
    const { voxq } = context();
    const box = new FakeGpuBox();
    cleanups.push(() => Promise.resolve(box.remove()));
    box.serve('query-gpu.csv', 'mig.query-gpu.csv');
    box.serve('compute-apps.csv', 'mig.compute-apps.csv');
    box.serve('list.txt', 'mig.list.txt');
    box.serve('table.txt', 'mig.table.txt');
    // No VOXQ_GPUS (empty is unset): the fake nvidia-smi is read.
    const json = voxq(['gpus', '--json'], { ...box.env(), VOXQ_GPUS: '', VOXQ_HOST_ID: 'mig-box' });
    expect(await json.exited).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { gpus: { host: string; index: number; uuid: string; name: string; mig: { profile: string; device: number } | null; totalMb: number }[]; localProblem: string | null };
    expect(parsed.localProblem).toBeNull();
    expect(parsed.gpus.map((g) => [g.host, g.index, g.mig?.device ?? null, g.uuid.slice(0, 4), g.name, g.totalMb])).toEqual([
      ['mig-box', 0, 0, 'MIG-', 'NVIDIA A100-SXM4-40GB MIG 3g.20gb', 20096],
      ['mig-box', 0, 1, 'MIG-', 'NVIDIA A100-SXM4-40GB MIG 2g.10gb', 9984],
      ['mig-box', 0, 2, 'MIG-', 'NVIDIA A100-SXM4-40GB MIG 1g.5gb', 4864],
      ['mig-box', 1, null, 'GPU-', 'NVIDIA A100-SXM4-40GB', 40960],
    ]);
  });
});

describe('voxq worker --gpu', () => {
  it('refuses an unknown card and a model that does not fit, naming the reason', async () => {
    const { voxq } = context();
    const unknown = voxq(['worker', '--stages', 'tts', '--gpu', '3'], { VOXQ_TTS: 'fake' });
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain('voxq: --gpu 3: no such GPU on');
    const tooBig = voxq(['worker', '--stages', 'tts', '--gpu', '1'], { VOXQ_TTS: 'fake', VOXQ_GPU_PROFILES: 'fake-tts:30000:100' });
    expect(await tooBig.exited).toBe(2);
    expect(tooBig.stderr()).toContain('voxq: cannot load fake-tts on GPU 1 (GPU-simulated-0001): it needs 30000 MB resident');
  });

  it('--gpu all runs one pinned worker process per card, each with its CUDA_VISIBLE_DEVICES, and frees all on SIGTERM', async () => {
    const { prefix, redis, voxq } = context();
    cleanups.push(async () => {
      const stores = await openMongoStores(testMongoUrl(), `gpu_cli_${prefix}`);
      await stores.db.dropDatabase();
      await stores.close();
    });
    const worker = voxq(['worker', '--stages', 'tts', '--gpu', 'all', '--concurrency', '1'], {
      VOXQ_TTS: 'fake',
      VOXQ_GPU_PROFILES: 'fake-tts:2000:500',
      MONGO_URL: testMongoUrl(),
      VOXQ_MONGO_DB: `gpu_cli_${prefix}`,
      OTEL_SDK_DISABLED: 'true',
    });
    await expect.poll(() => (worker.stderr().match(/"msg":"workers started"/g) ?? []).length, { timeout: 30_000, interval: 100 }).toBe(2);
    expect(worker.stderr()).toMatch(/"gpuUuid":"GPU-simulated-0000".*"cudaVisibleDevices":"0".*"msg":"worker pinned to gpu"/);
    expect(worker.stderr()).toMatch(/"gpuUuid":"GPU-simulated-0001".*"cudaVisibleDevices":"1".*"msg":"worker pinned to gpu"/);
    expect(await reservedMb(redis, prefix, resolveHostId(), 0)).toBe(2000);
    expect(await reservedMb(redis, prefix, resolveHostId(), 1)).toBe(2000);

    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await reservedMb(redis, prefix, resolveHostId(), 0)).toBe(0);
    expect(await reservedMb(redis, prefix, resolveHostId(), 1)).toBe(0);
  });
});
