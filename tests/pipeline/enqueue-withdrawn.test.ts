// A turn one store took while the other failed is not accepted, and then nothing of it runs:
// Redis took it and its first stages started at once, the database refused its record slowly —
// the caller hears the error, the LLM call in flight is aborted, no sentence is synthesized, no
// message is stored. A retry with the same turnId starts it afresh and runs it once.
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { UnavailableError } from '../../src/shared/errors.js';
import { CallLog, PacedLlm, type PacedTimings } from '../support/paced-fakes.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let pipeline: Pipeline | undefined;
let client: VoxqClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await pipeline?.close();
  pipeline = undefined;
});

describe('a turn whose record the database refused', () => {
  it('is withdrawn: the caller gets the error, nothing of it runs after, and a retry with its id runs it once', async () => {
    const log = new CallLog();
    // The first LLM call streams nothing until it is aborted; later ones answer at once.
    const timings: PacedTimings = { sttMs: 0, firstTokenMs: 600_000, tokensPerS: 1000, ttsMsPerSentence: 0 };
    pipeline = await startPipeline({ store: 'memory', providers: { llm: new PacedLlm(timings, log.report) } });
    const p = pipeline;
    // The record's insert fails once the LLM stage is under way (a database that went down and timed out).
    let down = true;
    const turns = new Proxy(p.stores.turns, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (name !== 'create' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (!down) return (value as (...a: unknown[]) => Promise<boolean>).apply(target, args);
          await log.until((calls) => calls.some((c) => c.provider === 'llm' && c.event === 'start'));
          throw new MongoNetworkError('connection 4 to 127.0.0.1:27017 timed out');
        };
      },
    });
    client = await connect({ config: p.config, stores: { ...p.stores, turns } });
    const { sessionId } = await client.createSession('u');
    const request = { sessionId, text: 'olá de novo', turnId: 'turn_12121212-3434-4565-8787-909090909090' };

    const refused = await client.enqueueTurn(request).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(refused).toMatchObject({ code: 'database_unavailable' });
    // The LLM call that was under way is aborted; nothing is synthesized or stored.
    await log.settled();
    expect(log.calls.map((c) => `${c.provider}:${c.event}`)).toEqual(['llm:start', 'llm:aborted']);
    expect(await client.history(sessionId)).toEqual([]);
    expect(await p.queues.get('tts').getJobCounts('waiting', 'delayed', 'active')).toEqual({ waiting: 0, delayed: 0, active: 0 });

    // The database is back: the caller's retry with the same id is accepted and runs once.
    down = false;
    timings.firstTokenMs = 0;
    const retried = await client.enqueueTurn(request);
    const result = await retried.result();
    expect(result.replyText).toContain('olá de novo');
    const history = await client.history(sessionId);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(log.calls.filter((c) => c.provider === 'llm' && c.event === 'end')).toHaveLength(1);
  });
});
