// Live turns and batch work share the STT provider's limits and workers: live turns draw on the
// same hourly audio-seconds budget, a live turn queued behind batch work is served first, and
// with batch work holding its whole share of the request window a live turn still starts at
// once (the live reserve), or at the window's next free slot, ahead of the batch.
import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { QueueEvents, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { PRIORITY_BATCH, STAGE_JOB_NAME } from '../../src/shared/contracts/jobs.js';
import { BATCH_CHUNK_JOB_NAME, batchChunkAudioId, batchFileJobId, type BatchChunkJobData } from '../../src/shared/contracts/batch.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import type { AudioInput } from '../../src/shared/ports/audio.js';
import type { SttInfo, TranscribeOptions, Transcription } from '../../src/shared/ports/stt-provider.js';
import { AudioBudget } from '../../src/shared/rate-limit/audio-budget.js';
import { RequestWindow } from '../../src/shared/rate-limit/request-window.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { quietLogger, startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

/** The fake, under another name: the limits apply to real providers only, as in production. */
class MeteredStt extends FakeSttProvider {
  /** Who reached the provider, in order (batch chunks are sent as `chunk.wav`). */
  readonly callers: ('live' | 'batch')[] = [];

  override info(): SttInfo {
    return { provider: 'metered-standin', model: 'whisper-large-v3-turbo' };
  }

  override transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    this.callers.push(audio.fileName === 'chunk.wav' ? 'batch' : 'live');
    return super.transcribe(audio, options);
  }
}

/** The stt queue's events a condition of the queue or the window can change with. */
const STT_QUEUE_EVENTS = ['added', 'waiting', 'active', 'delayed', 'completed', 'failed', 'removed'] as const;

/** Resolves once `condition` holds: checked now and at every event of the stt queue (no fixed sleeps). */
async function until(p: Pipeline, condition: () => Promise<boolean> | boolean): Promise<void> {
  // Events from the stream's current end on, so none between the first check and the first read is missed.
  const [last] = await p.redis.xrevrange(`${p.prefix}:stt:events`, '+', '-', 'COUNT', 1);
  const connection = createRedis(p.config.REDIS_URL, 'worker', 'voxq-test-until');
  const events = new QueueEvents('stt', { connection, prefix: p.prefix, lastEventId: last?.[0] ?? '0-0' });
  try {
    await events.waitUntilReady();
    await new Promise<void>((resolve, reject) => {
      let running = false;
      let again = false;
      const check = (): void => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        Promise.resolve(condition()).then((holds) => {
          running = false;
          if (holds) resolve();
          else if (again) {
            again = false;
            check();
          }
        }, reject);
      };
      for (const name of STT_QUEUE_EVENTS) events.on(name, check);
      check();
    });
  } finally {
    // Its connection blocks on the queue's event stream: drop it, then close.
    connection.disconnect();
    await events.close();
  }
}

/** One-chunk files as the batch runner adds them: audio in the store, one `batch-chunk` job each at PRIORITY_BATCH. */
async function addBatchFiles(p: Pipeline, count: number, audio: Uint8Array): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const key = createHash('sha1').update(`${p.prefix} file ${i}`).digest('hex');
    const audioId = batchChunkAudioId(key, 0);
    await p.stores.audio.put(audio, { mimeType: 'audio/wav', audioId });
    const file = { key, contentSha256: createHash('sha256').update(key).digest('hex'), language: 'pt-BR', durationMs: 1000, speechMs: 1000, chunkCount: 1 };
    const data: BatchChunkJobData = { key, index: 0, audioId, offsetMs: 0, durationMs: 1000, language: 'pt-BR', file };
    await p.queues.get('stt').add(BATCH_CHUNK_JOB_NAME, data as never, { priority: PRIORITY_BATCH, jobId: batchFileJobId(key), attempts: 4 });
  }
}

/** The window the workers share (same limits), to look into and clean up after. */
function windowOf(p: Pipeline): RequestWindow {
  return new RequestWindow({ redis: p.redis, prefix: p.prefix, limit: p.config.VOXQ_STT_REQUESTS_PER_MINUTE, liveReserve: 1 });
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

describe('live vs batch under the request window', () => {
  function startMetered(p: Pipeline, stt: MeteredStt) {
    return startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 2,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: quietLogger(),
    });
  }

  it('a live turn starts at once while batch work holds its whole share of the limit', async () => {
    // 5 a minute, 1 kept for live turns: batch work gets 4, and the other batch files wait a minute.
    pipeline = await startPipeline({
      store: 'memory',
      workers: false,
      env: { VOXQ_STT_REQUESTS_PER_MINUTE: '5', VOXQ_STT_LIVE_RESERVE: '1', VOXQ_STT_AUDIO_SECONDS_PER_HOUR: '0' },
    });
    const p = pipeline;
    const stt = new MeteredStt();
    const worker = startMetered(p, stt);
    const window = windowOf(p);
    const queue = p.queues.get('stt');
    try {
      const audio = await speakPtBr('Bom dia, tudo bem com você?');
      await addBatchFiles(p, 7, audio);
      // Saturated: four chunks transcribed, the other three back in the queue for the next free slot.
      await until(p, async () => stt.callers.length === 4 && (await queue.getDelayedCount()) === 3);
      expect(await window.counts()).toEqual({ total: 4, batch: 4 });

      const { sessionId } = await p.client.createSession('u');
      const turn = await (await p.client.enqueueTurn({ sessionId, audio })).result();
      expect(turn.transcription).toBeTruthy();
      expect(stt.callers).toEqual(['batch', 'batch', 'batch', 'batch', 'live']);
      expect(turn.timing.stt?.attempts).toBe(1);
      // The batch is still waiting for its slots: the live turn went ahead of it, not through it.
      expect(await queue.getDelayedCount()).toBe(3);
      expect(await window.counts()).toEqual({ total: 5, batch: 4 });
    } finally {
      await worker.close();
      await p.redis.del(...window.keys);
    }
  });

  it("a live turn meeting a full window takes the limit's next free slot, ahead of the waiting batch", async () => {
    // 3 a minute, 1 kept for live turns: batch work gets 2.
    pipeline = await startPipeline({
      store: 'memory',
      workers: false,
      env: { VOXQ_STT_REQUESTS_PER_MINUTE: '3', VOXQ_STT_LIVE_RESERVE: '1', VOXQ_STT_AUDIO_SECONDS_PER_HOUR: '0' },
    });
    const p = pipeline;
    const stt = new MeteredStt();
    const window = windowOf(p);
    // The window full from calls made before: batch holds its two slots, live the third.
    const older = await window.acquire('batch', 'earlier-batch-1');
    await window.acquire('batch', 'earlier-batch-2');
    await window.acquire('live', 'earlier-live');
    expect(await window.counts()).toEqual({ total: 3, batch: 2 });
    const worker = startMetered(p, stt);
    const queue = p.queues.get('stt');
    try {
      const audio = await speakPtBr('Bom dia, tudo bem com você?');
      await addBatchFiles(p, 4, audio);
      await until(p, async () => (await queue.getDelayedCount()) === 4);
      const { sessionId } = await p.client.createSession('u');
      const live = await p.client.enqueueTurn({ sessionId, audio });
      // The live turn waits too (no attempt spent), with its claim on the next free slot.
      await until(p, async () => (await queue.getDelayedCount()) === 5 && (await p.redis.zcard(window.waitingKey)) === 1);
      expect(stt.callers).toEqual([]);

      // A batch call leaves the window: the slot would fit batch work's share, but the live turn
      // waits for it. Everyone comes back from the queue at once, the batch first.
      await older.release();
      const delayed = await queue.getDelayed();
      const batchFirst = [...delayed].sort((a, b) => Number(a.name === STAGE_JOB_NAME) - Number(b.name === STAGE_JOB_NAME));
      for (const job of batchFirst) await job.promote();

      const turn = await live.result();
      expect(turn.transcription).toBeTruthy();
      expect(turn.timing.stt?.attempts).toBe(1);
      expect(stt.callers).toEqual(['live']);
      // The batch went back to wait for the slots after that one.
      await until(p, async () => (await queue.getDelayedCount()) === 4);
      expect(stt.callers).toEqual(['live']);
      expect(await window.counts()).toEqual({ total: 3, batch: 1 });
    } finally {
      await worker.close();
      await p.redis.del(...window.keys);
    }
  });
});
