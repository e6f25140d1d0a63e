// Live turns and batch work share the STT provider's limits and workers: live turns draw on the
// same hourly audio-seconds budget, and a live turn queued behind batch work is served first.
import type { Job } from 'bullmq';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { PRIORITY_BATCH, STAGE_JOB_NAME } from '../../src/shared/contracts/jobs.js';
import { BATCH_CHUNK_JOB_NAME } from '../../src/shared/contracts/batch.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import type { SttInfo } from '../../src/shared/ports/stt-provider.js';
import { AudioBudget } from '../../src/shared/rate-limit/audio-budget.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { quietLogger, startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

/** The fake, under another name: the limits apply to real providers only, as in production. */
class MeteredStt extends FakeSttProvider {
  override info(): SttInfo {
    return { provider: 'metered-standin', model: 'whisper-large-v3-turbo' };
  }
}

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe('live turns under the provider limits', () => {
  it('draw on the shared audio-seconds budget and fail, named, once it is spent', async () => {
    // A 3-second hourly budget: the first ~2 s recording fits, the second does not.
    pipeline = await startPipeline({
      store: 'memory',
      workers: false,
      env: { VOXQ_STT_AUDIO_SECONDS_PER_HOUR: '3', VOXQ_STT_REQUESTS_PER_MINUTE: '0', VOXQ_STAGE_ATTEMPTS: '1' },
    });
    const p = pipeline;
    const stt = new MeteredStt();
    const worker = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 1,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: quietLogger(),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      const audio = await speakPtBr('Bom dia, tudo bem com você?');
      const first = await (await p.client.enqueueTurn({ sessionId, audio })).result();
      expect(first.transcription).toBeTruthy();
      const budget = new AudioBudget({ redis: p.redis, prefix: p.prefix, audioSecondsPerHour: 3 });
      expect(await budget.usedMs()).toBeGreaterThan(1000);

      const second = await p.client.enqueueTurn({ sessionId, audio });
      const error = await second.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TurnFailedError);
      expect(error).toMatchObject({ stage: 'stt', code: 'provider_rate_limited' });
      expect((error as Error).message).toContain('audio-seconds budget');
      expect(stt.script.calls).toBe(1);
      await p.redis.del(budget.key);
    } finally {
      await worker.close();
    }
  });
});

describe('priority on the shared stt workers', () => {
  it('serves a live turn queued after batch work before the batch jobs', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false });
    const stt = pipeline.queues.get('stt');
    // Batch jobs as the batch runner adds them (priority PRIORITY_BATCH), then one live stage job.
    for (let i = 0; i < 5; i += 1) await stt.add(BATCH_CHUNK_JOB_NAME, { turnId: `batch-${i}` } as never, { priority: PRIORITY_BATCH, jobId: `batch-${i}` });
    const { sessionId } = await pipeline.client.createSession('u');
    const live = await pipeline.client.enqueueTurn({ sessionId, audio: await speakPtBr('olá') });

    // One job at a time, recording the order the queue hands them out.
    const order: string[] = [];
    const connection = createRedis(pipeline.config.REDIS_URL, 'worker', 'voxq-test-order');
    let allSeen: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allSeen = resolve));
    const worker = new Worker(
      'stt',
      (job: Job) => {
        order.push(job.name === STAGE_JOB_NAME ? 'live' : 'batch');
        if (order.length === 6) allSeen();
        return Promise.resolve();
      },
      { connection, prefix: pipeline.prefix, concurrency: 1 },
    );
    await done;
    await worker.close();
    await closeRedis(connection);
    expect(order).toEqual(['live', 'batch', 'batch', 'batch', 'batch', 'batch']);
    expect(live.turnId).toMatch(/^turn_/);
  });
});
