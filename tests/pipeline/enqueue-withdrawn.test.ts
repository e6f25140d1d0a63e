// A turn one store took while the other failed is not accepted, and then nothing of it runs:
// Redis took it and its first stages started at once, the database refused its record slowly —
// the caller hears the error, the LLM call in flight is aborted, no sentence is synthesized, no
// message is stored. A retry with the same turnId starts it afresh and runs it once. A turn that
// ran to its end before the database answered ends only once its producer confirms it: with its
// messages when the insert succeeded, with none when it failed.
import { QueueEvents } from 'bullmq';
import { MongoNetworkError } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/producers/sdk/connect.js';
import type { VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { stageJobId } from '../../src/shared/contracts/jobs.js';
import { UnavailableError } from '../../src/shared/errors.js';
import { createRedis } from '../../src/shared/redis.js';
import { LiveTurns } from '../../src/shared/live/live-turns.js';
import { SessionContextCache } from '../../src/shared/live/session-context.js';
import { NOT_ACCEPTED, TurnEnder } from '../../src/shared/live/turn-ender.js';
import { createLogger } from '../../src/shared/logger.js';
import { UnfinishedTurns } from '../../src/shared/live/unfinished-turns.js';
import { UNCONFIRMED_AFTER_MS } from '../../src/workers/turn-reconciler.js';
import { makeTurn } from '../contracts/turn-store.contract.js';
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

  for (const insert of ['fails', 'succeeds'] as const) {
    it(`ran to its end before the database answered, then the insert ${insert}: ${insert === 'fails' ? 'refused, with no end and no message' : 'accepted, completed once, with its messages'}`, async () => {
      // MongoDB (the bundled FerretDB): its records take a stage's writes before the turn's own insert lands.
      pipeline = await startPipeline({ store: 'mongo' });
      const p = pipeline;
      const turnId = insert === 'fails' ? 'turn_21212121-3434-4565-8787-909090909090' : 'turn_31313131-3434-4565-8787-909090909090';
      // The insert answers only once the turn has run to its end: a TTS job of it finished with
      // the end reached (kept for the producer's confirmation, or — without that gate — written).
      const connection = createRedis(p.config.REDIS_URL, 'worker', 'voxq-test-events');
      const events = new QueueEvents('tts', { connection, prefix: p.prefix });
      await events.waitUntilReady();
      const lastJobDone = new Promise<void>((resolve) => {
        events.on('completed', ({ jobId }) => {
          if (!jobId.startsWith(stageJobId(turnId, 'tts'))) return;
          void p.redis.keys(`${p.prefix}:*:turn:${turnId}:state`).then(async ([state]) => {
            if (state && (await p.redis.hmget(state, 'endDue', 'endWritten')).some((v) => v !== null)) resolve();
          });
        });
      });
      const turns = new Proxy(p.stores.turns, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name !== 'create' || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await lastJobDone;
            if (insert === 'fails') throw new MongoNetworkError('connection 4 to 127.0.0.1:27017 timed out');
            return (value as (...a: unknown[]) => Promise<boolean>).apply(target, args);
          };
        },
      });
      try {
        client = await connect({ config: p.config, stores: { ...p.stores, turns } });
        const { sessionId } = await client.createSession('u');
        const enqueued = client.enqueueTurn({ sessionId, text: 'bem rápido', turnId }).then(
          (handle) => handle,
          (error: unknown) => error,
        );
        const outcome = await enqueued;
        if (insert === 'fails') {
          expect(outcome).toMatchObject({ code: 'database_unavailable' });
          expect(await client.history(sessionId)).toEqual([]);
          expect(await p.stores.turns.get(turnId)).toBeNull();
        } else {
          if (outcome instanceof Error) throw outcome;
          const result = await (outcome as Awaited<ReturnType<VoxqClient['enqueueTurn']>>).result();
          expect(result.replyText).toContain('bem rápido');
          expect((await client.history(sessionId)).map((m) => m.role)).toEqual(['user', 'assistant']);
        }
      } finally {
        connection.disconnect();
        await events.close();
      }
    });
  }

  it('withdrawn, then failed again later (its stage failing once the store is back): no message, though the user text is known', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false });
    const p = pipeline;
    const { sessionId } = await p.client.createSession('u');
    const turn = makeTurn({ sessionId, userId: 'u', input: { kind: 'text', text: 'Qual é o saldo da minha conta?' } });
    const ref = { turnId: turn.turnId, sessionId };
    const live = new LiveTurns(p.redis, { prefix: p.prefix, ttlMs: 60_000, maxLogEntries: 100 });
    const unfinished = new UnfinishedTurns(p.redis, p.prefix);
    const context = new SessionContextCache(p.redis, { prefix: p.prefix, ttlMs: 60_000, maxMessages: 10 });
    const ender = new TurnEnder({ live, context, turns: p.stores.turns, sessions: p.stores.sessions, audio: p.stores.audio, queues: p.queues, metrics: p.metrics, log: createLogger('voxq-test', 'silent'), unfinished });
    await live.open(turn, undefined, { pending: true });
    await unfinished.add(ref, turn.createdAt.getTime());
    const notAccepted = { stage: 'enqueue' as const, code: NOT_ACCEPTED, message: 'the turn was not accepted' };
    expect(await ender.withdraw(ref, notAccepted)).toBe(true);
    // What a stage's failure does when its job ends after the withdrawal (the fault suite saw it after a database stop).
    await ender.fail(ref, { stage: 'llm', code: 'store_unavailable', message: 'the database did not answer' });
    expect(await p.client.history(sessionId)).toEqual([]);
  });

  it('is withdrawn by the reconciler when its producer died before confirming it', async () => {
    pipeline = await startPipeline({ store: 'memory', workers: false, env: { VOXQ_RECONCILE_INTERVAL_MS: '100', VOXQ_RECONCILE_GRACE_MS: '1' } });
    const p = pipeline;
    const { sessionId } = await p.client.createSession('u');
    // What a producer killed between its two writes leaves: the live state, never confirmed, and no record.
    const turn = makeTurn({ sessionId, userId: 'u', createdAt: new Date(Date.now() - UNCONFIRMED_AFTER_MS - 1000) });
    const ref = { turnId: turn.turnId, sessionId };
    const live = new LiveTurns(p.redis, { prefix: p.prefix, ttlMs: 60_000, maxLogEntries: 100 });
    const unfinished = new UnfinishedTurns(p.redis, p.prefix);
    await live.open(turn, undefined, { pending: true });
    await unfinished.add(ref, turn.createdAt.getTime());
    await unfinished.rememberSession(ref, 60_000);
    p.startWorkers();
    let end: unknown;
    for await (const event of p.client.turnEvents(turn.turnId)) if (event.type === 'end') end = event;
    expect(end).toMatchObject({ status: 'failed', error: { code: 'not_accepted' } });
    expect(await p.client.history(sessionId)).toEqual([]);
  });
});
