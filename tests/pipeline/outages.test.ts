// A store that is unreachable is waited out, not charged to the turn: the stage goes back to its
// queue (no attempt spent) until the store answers again, up to VOXQ_OUTAGE_TOLERANCE_MS; past
// it the turn fails with `store_unavailable`. A worker's shutdown hands its active jobs back at once.
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { TurnStore } from '../../src/shared/ports/turn-store.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { CallLog, PacedLlm, PacedStt, PacedTts } from '../support/paced-fakes.js';
import { quietLogger, startPipeline, type Pipeline } from '../support/pipeline.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

/**
 * A turn store whose writes fail as a dropped MongoDB connection does while `down()` says so;
 * `onWrite` hears each write's name first (a test can end the outage on a given write).
 */
function flaky(store: TurnStore, down: () => boolean, onWrite: (name: string) => void = () => undefined): TurnStore {
  const fail = () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'));
  return new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || name === 'get') return value;
      return (...args: unknown[]) => {
        const failing = down();
        onWrite(String(name));
        return failing ? fail() : (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

describe('store outages', () => {
  it('waits out a database that is down, without spending the attempts that belong to provider errors', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false, env: { VOXQ_STAGE_ATTEMPTS: '2' } });
    const p = pipeline;
    // Down for the first 6 writes: more failures than the 2 attempts could absorb.
    let failedWrites = 0;
    const down = () => failedWrites < 6;
    const worker = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 2,
      stores: { ...p.stores, turns: flaky(p.stores.turns, down, () => {
          if (down()) failedWrites += 1;
        }), close: () => Promise.resolve() },
      providers: { stt: p.stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: quietLogger(),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      const turn = await p.client.enqueueTurn({ sessionId, text: 'durante a queda' });
      const result = await turn.result({ timeoutMs: 30_000 });
      expect(result.replyText).toContain('durante a queda');
      expect(result.timing.llm?.attempts).toBe(1);
      expect(failedWrites).toBe(6);
      expect(p.metrics.calls.some((c) => c.name === 'voxq.stage.outage_waits')).toBe(true);
      expect((await p.client.getTurn(turn.turnId)).status).toBe('completed');
    } finally {
      await worker.close();
    }
  });

  it('fails the turn with store_unavailable once an outage that holds the turn up lasts past the tolerance; the end is written when the store is back', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false, env: { VOXQ_OUTAGE_TOLERANCE_MS: '60000' } });
    const p = pipeline;
    let down = false;
    const worker = startWorkerProcess({
      config: { ...p.config, VOXQ_OUTAGE_TOLERANCE_MS: 1500, VOXQ_RECONCILE_INTERVAL_MS: 500, VOXQ_RECONCILE_GRACE_MS: 1000 },
      stages: ['stt', 'llm', 'tts'],
      concurrency: 1,
      stores: {
        ...p.stores,
        // The database comes back once the turn's failure is being written (that first write still fails).
        turns: flaky(p.stores.turns, () => down, (name) => {
          if (name === 'fail') down = false;
        }),
        // The LLM stage must read the session's context from the database (its cache is dropped below).
        sessions: new Proxy(p.stores.sessions, {
          get: (target, name, receiver) =>
            name === 'context' && down ? () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED')) : (Reflect.get(target, name, receiver) as unknown),
        }),
        close: () => Promise.resolve(),
      },
      providers: { stt: p.stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: quietLogger(),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      await p.redis.del(`${p.prefix}:{${sessionId}}:context`);
      down = true; // the workers' store (the client writes the record through its own)
      const turn = await p.client.enqueueTurn({ sessionId, text: 'queda longa' });
      // The turn's end is written once the store answers again (the reconciler finishes the half-written ending).
      const error = await turn.result({ timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TurnFailedError);
      expect(error).toMatchObject({ code: 'store_unavailable' });
    } finally {
      await worker.close();
    }
  });
});

describe('worker shutdown', () => {
  it('hands its active jobs back at once: another worker finishes the turn, the provider call was aborted', async () => {
    const log = new CallLog();
    const { calls, report } = log;
    const timings = { sttMs: 10, firstTokenMs: 10, tokensPerS: 200, ttsMsPerSentence: 20 };
    pipeline = await startPipeline({ store: 'memory', workers: false });
    const p = pipeline;
    const slowLlm = new PacedLlm({ ...timings, firstTokenMs: 60_000 }, report);
    const first = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 1,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt: new PacedStt(timings, report), llm: slowLlm, tts: new PacedTts(timings, report) },
      metrics: p.metrics,
      log: quietLogger(),
    });
    const { sessionId } = await p.client.createSession('u');
    const turn = await p.client.enqueueTurn({ sessionId, text: 'passe adiante' });
    for await (const event of turn.events()) if (event.type === 'stage' && event.stage === 'llm') break;
    await first.close(); // would wait 60 s for the LLM if the job were not handed back
    await log.settled();
    expect(calls.filter((c) => c.provider === 'llm').map((c) => c.event)).toEqual(['start', 'aborted']);
    const second = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 1,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt: new PacedStt(timings, report), llm: new PacedLlm(timings, report), tts: new PacedTts(timings, report) },
      metrics: p.metrics,
      log: quietLogger(),
    });
    try {
      const result = await turn.result({ timeoutMs: 20_000 });
      expect(result.replyText).toContain('passe adiante');
      expect(result.timing.llm?.attempts).toBe(1);
    } finally {
      await second.close();
    }
  });
});
