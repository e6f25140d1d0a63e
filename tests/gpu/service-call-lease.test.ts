// A service call (ServiceClient.call) on a GPU-pinned worker goes through the stage runner's GPU
// lease as a turn's stage does: its job reserves its working memory first, waits on a short card
// without running or spending an attempt, runs once memory frees, and gives the memory back.
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqServiceClient } from '../../src/shared/bullmq-service-client.js';
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { openGpuManager, pinProcessToGpu, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { deletePrefix, reservedMb } from '../support/gpu-ledger.js';
import { startPipeline } from '../support/pipeline.js';

const log = createLogger('gpu-test', 'silent');
const cleanups: (() => Promise<void>)[] = [];
const cudaBefore = process.env.CUDA_VISIBLE_DEVICES;
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (cudaBefore === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
  else process.env.CUDA_VISIBLE_DEVICES = cudaBefore;
});

const MODELS = [
  { service: 'stt', model: 'fake-stt', provider: 'fake' },
  { service: 'llm', model: 'fake-llm', provider: 'fake' },
  { service: 'tts', model: 'fake-tts', provider: 'fake' },
];

describe('service calls on a GPU-pinned worker', () => {
  it('reserve their job memory: a short card holds the call (no provider call, no attempt spent) until memory frees', async () => {
    const pipeline = await startPipeline({ workers: false, env: { VOXQ_GPUS: '0:Sim A:1000', VOXQ_GPU_LEASE_TTL_MS: '5000', VOXQ_GPU_PROFILES: 'fake:100:300' } });
    cleanups.push(async () => {
      await deletePrefix(pipeline.redis, `${pipeline.prefix}:gpu`);
      await pipeline.close();
    });
    const [card] = await resolveGpuSelector(pipeline.config, '0');
    if (!card) throw new Error('no card');
    const gpu = await pinProcessToGpu(pipeline.config, card, MODELS, { log, metrics: pipeline.metrics });
    // Someone else holds 500 MB: 1000 − 300 resident − 500 = 200 MB, short of a job's 300.
    const other = openGpuManager(pipeline.config, { log });
    cleanups.push(() => other.close());
    const blocker = await other.allocate('someone-else', 500, { gpuUuid: card.uuid });
    if (!blocker.ok) throw new Error(blocker.reason);
    pipeline.worker = startWorkerProcess({
      config: pipeline.config,
      stages: ['llm'],
      concurrency: 1,
      stores: { ...pipeline.stores, close: () => Promise.resolve() },
      providers: { llm: pipeline.llm },
      metrics: pipeline.metrics,
      log,
      gpu,
    });
    const client = new BullmqServiceClient({ connection: pipeline.redis, prefix: pipeline.prefix });
    cleanups.push(() => client.close());

    const call = client.call('llm', { prompt: 'Que horas são?' }, { timeoutMs: 20_000 });
    const waitList = `${pipeline.prefix}:gpu:${resolveHostId()}:${card.uuid}:wait`;
    await expect.poll(() => pipeline.redis.zcard(waitList), { timeout: 10_000, interval: 20 }).toBe(1);
    const [waiting] = await pipeline.queues.get('llm').getJobs(['delayed', 'wait', 'waiting', 'prioritized', 'active']);
    expect(waiting?.name).toBe('call');
    expect(waiting?.attemptsMade).toBe(0);
    expect(pipeline.llm.script.calls).toBe(0);

    await blocker.lease.release();
    expect((await call).provider).toBe('fake');
    expect(pipeline.llm.script.calls).toBe(1);
    // The job's lease is gone: the resident memory only.
    expect(await reservedMb(pipeline.redis, pipeline.prefix, resolveHostId(), 0)).toBe(300);
  });
});
