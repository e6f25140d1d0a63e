// A GPU-pinned worker process running the real stage runner (fake providers, the test database):
// it reserves its models' resident memory at start or refuses with the reason; each job reserves
// its working memory first; when the card is short the job waits for memory (on the card's list,
// back in the queue when that wait runs out) without losing an attempt, and the turn goes on as
// soon as a release hands the memory over.
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { afterEach, describe, expect, it } from 'vitest';
import { stageJobId } from '../../src/shared/contracts/jobs.js';
import { VoxqError } from '../../src/shared/errors.js';
import { openGpuManager, pinProcessToGpu, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { deletePrefix, reservedMb } from '../support/gpu-ledger.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

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

async function pipelineWith(env: Record<string, string>): Promise<Pipeline> {
  const pipeline = await startPipeline({ workers: false, env: { VOXQ_GPUS: '0:Sim A:1000,1:Sim B:1000', VOXQ_GPU_LEASE_TTL_MS: '5000', ...env } });
  cleanups.push(async () => {
    // The ledger's keys are the GPU tests' own; the pipeline checks nothing else is left.
    await deletePrefix(pipeline.redis, `${pipeline.prefix}:gpu`);
    await pipeline.close();
  });
  return pipeline;
}

describe('GPU-pinned stage workers', () => {
  it('waits for memory without spending an attempt, and finishes the turn once memory frees', async () => {
    const pipeline = await pipelineWith({ VOXQ_GPU_PROFILES: 'fake:100:300' });
    const [card] = await resolveGpuSelector(pipeline.config, '1');
    if (!card) throw new Error('no card');
    const gpu = await pinProcessToGpu(pipeline.config, card, MODELS, { log, metrics: pipeline.metrics });
    expect(process.env.CUDA_VISIBLE_DEVICES).toBe('1');
    expect(await reservedMb(pipeline.redis, pipeline.prefix, resolveHostId(), 1)).toBe(300);

    // Someone else holds 500 MB of the card: 1000 − 300 resident − 500 = 200 MB, short of a job's 300.
    const other = openGpuManager(pipeline.config, { log });
    cleanups.push(() => other.close());
    const blocker = await other.allocate('someone-else', 500, { gpuUuid: card.uuid });
    if (!blocker.ok) throw new Error(blocker.reason);

    pipeline.worker = startWorkerProcess({
      config: pipeline.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 2,
      stores: { ...pipeline.stores, close: () => Promise.resolve() },
      providers: { stt: pipeline.stt, llm: pipeline.llm, tts: pipeline.tts },
      metrics: pipeline.metrics,
      log,
      gpu,
    });
    const session = await pipeline.client.createSession('gpu-user');
    const handle = await pipeline.client.enqueueTurn({ sessionId: session.sessionId, text: 'Que horas são?' });
    const llmJob = async () => pipeline.queues.get('llm').getJob(stageJobId(handle.turnId, 'llm'));

    // The job waits on the card's list in the ledger; each time its wait runs out (1 s) it goes back to the
    // queue and is offered again, but it is never run and never charged an attempt.
    const waitList = `${pipeline.prefix}:gpu:${resolveHostId()}:${card.uuid}:wait`;
    await expect.poll(() => pipeline.redis.zcard(waitList), { timeout: 10_000, interval: 20 }).toBe(1);
    await expect.poll(async () => (await llmJob())?.attemptsStarted ?? 0, { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(3);
    const waiting = await llmJob();
    expect(waiting?.attemptsMade).toBe(0);
    expect(await waiting?.getState()).toMatch(/^(delayed|wait|waiting|prioritized|active)$/);
    expect((await handle.turn()).status).not.toBe('failed');
    expect(pipeline.llm.script.calls).toBe(0);

    // The release hands the memory straight to the waiting job (in the same script): the turn goes on.
    await expect.poll(() => pipeline.redis.zcard(waitList), { timeout: 5_000, interval: 10 }).toBe(1);
    await blocker.lease.release();
    const result = await handle.result({ timeoutMs: 20_000 });
    expect(result.replyText.length).toBeGreaterThan(0);
    expect(result.timing.llm?.attempts).toBe(1);
    expect(result.timing.tts?.attempts).toBe(1);
    expect(pipeline.metrics.calls.some((c) => c.name === 'voxq.gpu.reserved_mb' && c.tags?.gpu_uuid === card.uuid)).toBe(true);
    // Nothing is left waiting, and the workers' concurrency is what was configured.
    expect(await pipeline.redis.exists(waitList)).toBe(0);
    expect(pipeline.worker.workers.map((w) => w.concurrency)).toEqual([2, 2, 2]);

    // Job leases are gone; closing the worker gives the resident memory back.
    expect(await reservedMb(pipeline.redis, pipeline.prefix, resolveHostId(), 1)).toBe(300);
    await pipeline.worker.close();
    expect(await reservedMb(pipeline.redis, pipeline.prefix, resolveHostId(), 1)).toBe(0);
  });

  it('sends a job short of memory on its card to a worker of the same host whose card has room, instead of waiting out VOXQ_GPU_WAIT_MS', async () => {
    // Each job would wait 20 s on a full card; the turns must finish well before that.
    const pipeline = await pipelineWith({ VOXQ_GPU_PROFILES: 'fake:100:300', VOXQ_GPU_WAIT_MS: '20000' });
    const cards = await resolveGpuSelector(pipeline.config, 'all');
    const pinned = await Promise.all(cards.map((card) => pinProcessToGpu(pipeline.config, card, MODELS, { log })));
    const [full, roomy] = cards;
    if (!full || !roomy) throw new Error('two cards expected');
    // Card 0: 1000 − 300 resident − 500 held by someone else = 200 MB, short of a job's 300. Card 1: 700 MB free.
    const other = openGpuManager(pipeline.config, { log });
    cleanups.push(() => other.close());
    const blocker = await other.allocate('someone-else', 500, { gpuUuid: full.uuid });
    if (!blocker.ok) throw new Error(blocker.reason);

    const workers = pinned.map((gpu) =>
      startWorkerProcess({
        config: pipeline.config,
        stages: ['stt', 'llm', 'tts'],
        concurrency: 2,
        stores: { ...pipeline.stores, close: () => Promise.resolve() },
        providers: { stt: pipeline.stt, llm: pipeline.llm, tts: pipeline.tts },
        metrics: pipeline.metrics,
        log,
        gpu,
      }),
    );
    cleanups.push(async () => {
      for (const worker of workers) await worker.close();
    });
    const started = Date.now();
    const handles = [];
    // One session each: a session's turns run their llm stage one at a time, which would serialise them.
    for (const text of ['Que horas são?', 'Como está o tempo?', 'Conte uma piada.', 'Qual é a capital do Brasil?']) {
      const session = await pipeline.client.createSession('gpu-user');
      handles.push(await pipeline.client.enqueueTurn({ sessionId: session.sessionId, text }));
    }
    const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 10_000 })));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results.every((r) => r.timing.llm?.attempts === 1 && r.timing.tts?.attempts === 1)).toBe(true);
    // The worker on the full card took jobs and sent them on; nothing waits on its list, nothing was put back for lack of memory.
    const handoffs = pinned.map((gpu) => gpu.handoffCount);
    expect(handoffs[0]).toBeGreaterThan(0);
    expect(pinned.map((gpu) => gpu.shortCount)).toEqual([0, 0]);
    expect(await pipeline.redis.zcard(`${pipeline.prefix}:gpu:${resolveHostId()}:${full.uuid}:wait`)).toBe(0);
    await blocker.lease.release();
  });

  it('refuses to start, saying why, when a model does not fit or has no profile', async () => {
    const pipeline = await pipelineWith({ VOXQ_GPU_PROFILES: 'fake:600:100' });
    const [card] = await resolveGpuSelector(pipeline.config, '0');
    if (!card) throw new Error('no card');
    // 600 MB for stt fits, 600 more for llm does not: nothing stays reserved.
    const refusal = pinProcessToGpu(pipeline.config, card, MODELS, { log });
    await expect(refusal).rejects.toBeInstanceOf(VoxqError);
    await expect(refusal).rejects.toMatchObject({
      code: 'gpu_memory_short',
      message: 'cannot load fake-llm on GPU 0 (GPU-simulated-0000): it needs 600 MB resident and 600 MB does not fit on GPU 0 (GPU-simulated-0000): 400 MB free',
    });
    expect(await reservedMb(pipeline.redis, pipeline.prefix, resolveHostId(), 0)).toBe(0);
    await expect(pinProcessToGpu(pipeline.config, card, [{ service: 'tts', model: 'mystery-tts', provider: 'mystery' }], { log })).rejects.toMatchObject({
      code: 'gpu_profile_missing',
    });
  });
});
