// A stage job delivered twice (a stalled job re-run, a retry after the output was written, two
// workers racing) writes one result, saves each message once and enqueues the next stage once.
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { StageJobData } from '../../src/shared/contracts/jobs.js';
import { stageJobId } from '../../src/shared/contracts/jobs.js';
import { createStageProcessor } from '../../src/workers/run-stage.js';
import { llmStage } from '../../src/workers/llm-stage.js';
import { ttsStage } from '../../src/workers/tts-stage.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { quietLogger, startPipeline, type Pipeline } from '../support/pipeline.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe.each(['mongo', 'memory'] as const)('stage idempotence (%s store)', (store) => {
  it('runs the LLM and TTS jobs twice, in sequence and at once, with one effect each', async () => {
    pipeline = await startPipeline({ store, workers: false, llm: { replies: ['primeira resposta', 'segunda resposta', 'terceira resposta'] } });
    const p = pipeline;
    // Stage deps wired exactly as a worker has them, but no worker pulling jobs.
    const worker = startWorkerProcess({
      config: p.config,
      stages: [],
      concurrency: 1,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt: p.stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: quietLogger(),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      const handle = await p.client.enqueueTurn({ sessionId, text: 'olá' });
      const llmJob = (await p.queues.get('llm').getJob(stageJobId(handle.turnId, 'llm'))) as Job<StageJobData>;
      const runLlm = createStageProcessor(llmStage, worker.deps);

      await runLlm(llmJob);
      await runLlm(llmJob);
      await Promise.all([runLlm(llmJob), runLlm(llmJob)]);
      const afterLlm = await p.stores.turns.get(handle.turnId);
      expect(afterLlm?.stages.llm?.output.text).toBe('primeira resposta');
      expect(await p.queues.get('tts').getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({ waiting: 1, prioritized: 0, delayed: 0 });

      const ttsJob = (await p.queues.get('tts').getJob(stageJobId(handle.turnId, 'tts', 0))) as Job<StageJobData>;
      const runTts = createStageProcessor(ttsStage, worker.deps);
      await Promise.all([runTts(ttsJob), runTts(ttsJob)]);
      await runTts(ttsJob);

      const turn = await p.stores.turns.get(handle.turnId);
      expect(turn?.status).toBe('completed');
      expect((await p.client.history(sessionId)).map((m) => m.content)).toEqual(['olá', 'primeira resposta']);
      expect((await p.stores.sessions.getSession(sessionId))?.interactionCount).toBe(1);
      const completions = p.metrics.calls.filter((c) => c.name === 'voxq.turns' && c.tags?.outcome === 'completed');
      expect(completions).toHaveLength(1);
      expect((await handle.result()).replyText).toBe('primeira resposta');
    } finally {
      await worker.close();
    }
  });
});
