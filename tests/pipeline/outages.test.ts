// A store that is unreachable is waited out, not charged to the turn: the stage goes back to its
// queue (no attempt spent) until the store answers again, up to VOXQ_OUTAGE_TOLERANCE_MS; past
// it the turn fails with `store_unavailable`. A worker's shutdown hands its active jobs back at once.
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { TurnStore } from '../../src/shared/ports/turn-store.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { PacedLlm, PacedStt, PacedTts, type ProviderCall } from '../support/paced-fakes.js';
import { quietLogger, startPipeline, type Pipeline } from '../support/pipeline.js';
import { createLogger } from '../../src/shared/logger.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

/** A turn store whose writes fail as a dropped MongoDB connection does while `down()` says so. */
function flaky(store: TurnStore, down: () => boolean): TurnStore {
  const fail = () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'));
  return new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (down() && name !== 'get' ? fail() : (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

describe('store outages', () => {
  it('waits out a database that is down, without spending the attempts that belong to provider errors', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false, env: { VOXQ_STAGE_ATTEMPTS: '2' } });
    const p = pipeline;
    let downUntil = 0;
    const worker = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 2,
      stores: { ...p.stores, turns: flaky(p.stores.turns, () => Date.now() < downUntil), close: () => Promise.resolve() },
      providers: { stt: p.stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: (process.env.VOXQ_TEST_LOG_LEVEL ? createLogger('t', 'debug') : quietLogger()),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      downUntil = Date.now() + 3000; // longer than two attempts' backoff would last
      const turn = await p.client.enqueueTurn({ sessionId, text: 'durante a queda' });
      const result = await turn.result({ timeoutMs: 30_000 });
      expect(result.replyText).toContain('durante a queda');
      expect(result.timing.llm?.attempts).toBe(1);
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
        turns: flaky(p.stores.turns, () => down),
        // The LLM stage must read the session's context from the database (its cache is dropped below).
        sessions: new Proxy(p.stores.sessions, {
          get: (target, name, receiver) =>
            name === 'context' && down ? () => Promise.reject(new MongoNetworkError('connect ECONNREFUSED')) : (Reflect.get(target, name, receiver) as unknown),
        }),
        close: () => Promise.resolve(),
      },
      providers: { stt: p.stt, llm: p.llm, tts: p.tts },
      metrics: p.metrics,
      log: (process.env.VOXQ_TEST_LOG_LEVEL ? createLogger('t', 'debug') : quietLogger()),
    });
    try {
      const { sessionId } = await p.client.createSession('u');
      await p.redis.del(`${p.prefix}:{${sessionId}}:context`);
      down = true; // the workers' store (the client writes the record through its own)
      const turn = await p.client.enqueueTurn({ sessionId, text: 'queda longa' });
      // The turn's end is written once the store answers again.
      setTimeout(() => (down = false), 4000);
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
    const calls: ProviderCall[] = [];
    const timings = { sttMs: 10, firstTokenMs: 10, tokensPerS: 200, ttsMsPerSentence: 20 };
    const report = (call: ProviderCall) => calls.push(call);
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
      log: (process.env.VOXQ_TEST_LOG_LEVEL ? createLogger('t', 'debug') : quietLogger()),
    });
    const { sessionId } = await p.client.createSession('u');
    const turn = await p.client.enqueueTurn({ sessionId, text: 'passe adiante' });
    for await (const event of turn.events()) if (event.type === 'stage' && event.stage === 'llm') break;
    await first.close(); // would wait 60 s for the LLM if the job were not handed back
    expect(calls.filter((c) => c.provider === 'llm').map((c) => c.event)).toEqual(['start', 'aborted']);
    const second = startWorkerProcess({
      config: p.config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: 1,
      stores: { ...p.stores, close: () => Promise.resolve() },
      providers: { stt: new PacedStt(timings, report), llm: new PacedLlm(timings, report), tts: new PacedTts(timings, report) },
      metrics: p.metrics,
      log: (process.env.VOXQ_TEST_LOG_LEVEL ? createLogger('t', 'debug') : quietLogger()),
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
