// onnxruntime-node's run() computes on the thread that calls it. With synthesis threads the
// worker's event loop keeps turning during a long synthesis; inline, it stops for the whole run.
// And a TTS job whose synthesis outlasts the BullMQ lock does not stall: the lock is renewed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageJobId } from '../../src/shared/contracts/jobs.js';
import { KokoroTtsProvider } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import { layersForRunMs } from '../support/kokoro/calibrate.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';
import { startPipeline } from '../support/pipeline.js';

const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };
/** One short sentence: one model run. */
const SENTENCE = 'Bom dia.';

let slow: KokoroFolder;
beforeAll(async () => {
  // One run() of about 1.5 s (at least 300 ms even on a much faster machine).
  slow = await makeKokoroFolder({ layers: await layersForRunMs(1500) });
}, 60_000);
afterAll(async () => {
  await slow?.remove();
});

/** The longest the event loop went without running a 5 ms timer while `work` ran. */
async function longestStallMs(work: () => Promise<unknown>): Promise<{ stallMs: number; workMs: number }> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  longest = Math.max(longest, performance.now() - last);
  return { stallMs: longest, workMs: performance.now() - started };
}

function provider(threads: number): KokoroTtsProvider {
  return new KokoroTtsProvider({ model: { model: 'local', modelDir: slow.dir, cacheDir: `${slow.dir}/cache`, dtype: 'q8' }, device: 'cpu', threads });
}

describe('Kokoro inference and the event loop', () => {
  it('a synthesis thread keeps the loop turning; inline inference stops it for the whole run', async () => {
    const threaded = provider(1);
    const inline = provider(0);
    try {
      await Promise.all([threaded.load(), inline.load()]);
      const onThread = await longestStallMs(() => threaded.synthesize(SENTENCE, PT_BR));
      const onLoop = await longestStallMs(() => inline.synthesize(SENTENCE, PT_BR));
      // Inline, the loop is stuck for (nearly) the whole synthesis; threaded, for a small part of it.
      expect(onLoop.stallMs).toBeGreaterThan(onLoop.workMs * 0.5);
      expect(onThread.stallMs).toBeLessThan(onThread.workMs * 0.25);
    } finally {
      await Promise.all([threaded.close(), inline.close()]);
    }
  }, 60_000);

  it('a TTS job whose synthesis outlasts the lock completes on its first attempt, never stalled', async () => {
    const tts = provider(1);
    await tts.load();
    // A 1 s lock against a reply of three sentences: three TTS jobs (one per sentence) of one model
    // run of ~1.5 s each, taken at once by the worker and run one after another on the thread.
    const reply = 'Olá, tudo bem com você? Espero que sim. E que o seu dia esteja ótimo.';
    const pipeline = await startPipeline({ store: 'memory', providers: { tts }, env: { VOXQ_LOCK_DURATION_MS: '1000' }, llm: { replies: [reply] } });
    try {
      const ttsQueue = pipeline.queues.all().find((q) => q.name === 'tts');
      if (!ttsQueue) throw new Error('no tts queue');
      const session = await pipeline.client.createSession('u-lock');
      const turn = await pipeline.client.enqueueTurn({ sessionId: session.sessionId, text: 'Oi' });
      const result = await turn.result();
      expect(result.replyAudio.durationMs).toBeGreaterThan(0);
      const jobMs: number[] = [];
      for (const sentence of [0, 1, 2]) {
        // The last sentence's job ends the turn, then BullMQ marks it completed: wait for that mark.
        const id = stageJobId(turn.turnId, 'tts', sentence);
        await expect.poll(async () => (await ttsQueue.getJob(id))?.finishedOn, { timeout: 10_000 }).toBeDefined();
        const job = await ttsQueue.getJob(id);
        expect(job?.attemptsMade).toBe(1);
        expect(job?.stalledCounter ?? 0).toBe(0);
        jobMs.push((job?.finishedOn ?? 0) - (job?.processedOn ?? 0));
      }
      // The premise: a job really outlasted the lock (even if the calibration overestimated this
      // machine's speed, the last one waits for the thread through the runs before its own).
      expect(Math.max(...jobMs)).toBeGreaterThan(1000);
    } finally {
      await pipeline.close();
      await tts.close();
    }
  }, 120_000);
});
