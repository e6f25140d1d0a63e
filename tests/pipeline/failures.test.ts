// Retries, failed turns and bad input: a clear error naming the problem, and the workers go on.
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, NotFoundError, TimeoutError } from '../../src/shared/errors.js';
import { MAX_AUDIO_BYTES } from '../../src/shared/audio/probe.js';
import { STAGE_JOB_NAME } from '../../src/shared/contracts/jobs.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

async function textTurn(p: Pipeline, text = 'oi') {
  const session = await p.client.createSession('u');
  return p.client.enqueueTurn({ sessionId: session.sessionId, text });
}

describe('retries', () => {
  it('retries a 429 after the provider’s retry-after and records the attempts', async () => {
    pipeline = await startPipeline({ store: 'memory', llm: { failures: [{ kind: 'rate_limited', retryAfterMs: 300 }] } });
    const started = Date.now();
    const result = await (await textTurn(pipeline)).result();
    expect(result.timing.llm?.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(pipeline.llm.script.calls).toBe(2);
  });

  it('retries 5xx and timeouts with backoff, then completes', async () => {
    pipeline = await startPipeline({
      store: 'memory',
      stt: { failures: [{ kind: 'server' }] },
      tts: { failures: [{ kind: 'timeout' }, { kind: 'server' }] },
      // One TTS job for the whole reply, so both failures fall on it (streaming spreads them over sentences).
      env: { VOXQ_STREAMING: 'false' },
    });
    const session = await pipeline.client.createSession('u');
    const result = await (await pipeline.client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr('olá') })).result();
    expect(result.timing.stt?.attempts).toBe(2);
    expect(result.timing.tts?.attempts).toBe(3);
    expect((await pipeline.client.statistics(session.sessionId)).messageCount).toBe(2);
  });

  it('fails the turn when retries run out, naming the stage and the cause', async () => {
    pipeline = await startPipeline({
      store: 'memory',
      env: { VOXQ_STAGE_ATTEMPTS: '2' },
      llm: { failures: [{ kind: 'server' }, { kind: 'server' }] },
    });
    const handle = await textTurn(pipeline);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TurnFailedError);
    expect(error).toMatchObject({ stage: 'llm', code: 'provider_server' });
    expect((await handle.turn()).status).toBe('failed');
  });

  it('fails at once on a non-retryable provider error, and the next turn still completes', async () => {
    pipeline = await startPipeline({ store: 'memory', stt: { failures: [{ kind: 'bad_request' }] } });
    const session = await pipeline.client.createSession('u');
    const audio = await speakPtBr('olá');
    const bad = await pipeline.client.enqueueTurn({ sessionId: session.sessionId, audio });
    await expect(bad.result()).rejects.toMatchObject({ stage: 'stt', code: 'provider_bad_request' });
    expect(pipeline.stt.script.calls).toBe(1);
    const good = await pipeline.client.enqueueTurn({ sessionId: session.sessionId, audio });
    expect((await good.result()).transcription).toBeTruthy();
    // A failed turn saves no messages.
    expect((await pipeline.client.statistics(session.sessionId)).messageCount).toBe(2);
  });

  it('fails a turn whose audio holds no speech with code no_speech', async () => {
    pipeline = await startPipeline({ store: 'memory', stt: { transcripts: ['   '] } });
    const session = await pipeline.client.createSession('u');
    const handle = await pipeline.client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr('olá') });
    await expect(handle.result()).rejects.toMatchObject({ code: 'no_speech', stage: 'stt' });
  });
});

describe('bad input at the SDK', () => {
  it('names each problem and enqueues nothing', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u');
    const expectCode = async (promise: Promise<unknown>, code: string, type: typeof InputError | typeof NotFoundError = InputError) => {
      const error = await promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as InputError).code).toBe(code);
      return error as Error;
    };
    await expectCode(client.enqueueTurn({ sessionId, audio: new Uint8Array() }), 'audio_empty');
    await expectCode(client.enqueueTurn({ sessionId, audio: new Uint8Array(4096).map((_, i) => (i * 7919) % 251) }), 'audio_not_audio');
    await expectCode(client.enqueueTurn({ sessionId, audio: new TextEncoder().encode('isto não é áudio\n'.repeat(50)) }), 'audio_not_audio');
    const wav = await speakPtBr('olá');
    await expectCode(client.enqueueTurn({ sessionId, audio: wav.subarray(0, 44) }), 'audio_corrupt');
    const huge = await expectCode(client.enqueueTurn({ sessionId, audio: new Uint8Array(MAX_AUDIO_BYTES + 1) }), 'audio_too_large');
    expect(huge.message).toContain('25 MB');
    await expectCode(client.enqueueTurn({ sessionId, text: '   ' }), 'text_empty');
    const unknown = await expectCode(
      client.enqueueTurn({ sessionId: 'sess_00000000-0000-4000-8000-000000000000', text: 'oi' }),
      'session_not_found',
      NotFoundError,
    );
    expect(unknown.message).toContain('createSession');
    const badId = await expectCode(client.enqueueTurn({ sessionId: 'nope', text: 'oi' }), 'invalid_input');
    expect(badId.message).toContain('sessionId');
    await expectCode(client.enqueueTurn({ sessionId, text: 'oi', audio: wav }), 'invalid_input');
    await expectCode(client.enqueueTurn({ sessionId }), 'invalid_input');
    await expectCode(client.enqueueTurn({ sessionId, audio: 'base64?' } as never), 'invalid_input');
    await expectCode(client.enqueueTurn({ sessionId, text: 'oi', speed: 9 }), 'invalid_input');
    await expectCode(client.enqueueTurn({ sessionId, text: 'oi', language: 'português' }), 'invalid_input');
    await expectCode(client.createSession(''), 'invalid_user_id');
    await expectCode(client.getTurn('turn_00000000-0000-4000-8000-000000000000'), 'turn_not_found', NotFoundError);

    const counts = await Promise.all(pipeline.queues.all().map((q) => q.count()));
    expect(counts).toEqual([0, 0, 0]);
    expect(pipeline.stt.script.calls + pipeline.llm.script.calls).toBe(0);
  });

  it('fails a garbage job in a stage queue alone; the worker keeps serving turns', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const stt = pipeline.queues.get('stt');
    const bogus = await stt.add(STAGE_JOB_NAME, { turnId: 42 } as never, { attempts: 3 });
    const missing = await stt.add(STAGE_JOB_NAME, {
      turnId: 'turn_00000000-0000-4000-8000-000000000000',
      sessionId: 'sess_00000000-0000-4000-8000-000000000000',
    });
    const result = await (await textTurn(pipeline, 'ainda aqui?')).result();
    expect(result.replyText).toContain('ainda aqui?');
    await expect.poll(async () => (await stt.getJob(bogus.id ?? ''))?.failedReason, { timeout: 10_000 }).toContain('invalid stt job data');
    const failedMissing = await stt.getJob(missing.id ?? '');
    await expect.poll(async () => (await stt.getJob(missing.id ?? ''))?.failedReason, { timeout: 10_000 }).toContain('does not exist');
    // Unrecoverable: one attempt, not three.
    expect((await stt.getJob(bogus.id ?? ''))?.attemptsMade).toBe(1);
    expect(failedMissing).toBeDefined();
  });
});

describe('waiting', () => {
  it('times out result() with a clear error and leaves the turn running to completion', async () => {
    pipeline = await startPipeline({ store: 'memory', llm: { latencyMs: 800 } });
    const handle = await textTurn(pipeline);
    const error = await handle.result({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/still running/);
    const result = await handle.result({ timeoutMs: 10_000 });
    expect(result.replyText).toBeTruthy();
  });

  it('stops a wait whose signal is aborted (with its reason), and the turn runs on', async () => {
    pipeline = await startPipeline({ store: 'memory', llm: { latencyMs: 800 } });
    const handle = await textTurn(pipeline);
    const leaving = new AbortController();
    const waiting = pipeline.client.waitForTurn(handle.turnId, { timeoutMs: 10_000, signal: leaving.signal }).catch((e: unknown) => e);
    leaving.abort(new Error('the listener left'));
    expect(await waiting).toMatchObject({ message: 'the listener left' });
    await expect(pipeline.client.waitForTurn(handle.turnId, { signal: AbortSignal.abort(new Error('already gone')) })).rejects.toThrow('already gone');
    expect((await handle.result({ timeoutMs: 10_000 })).replyText).toBeTruthy();
  });

  it('gives the result to a waiter that starts after the turn ended, from another client', async () => {
    pipeline = await startPipeline();
    const handle = await textTurn(pipeline);
    await handle.result();
    const again = await pipeline.client.waitForTurn(handle.turnId, { timeoutMs: 2000 });
    expect(again.turnId).toBe(handle.turnId);
  });

  it('enqueues a turn once when the same turnId is sent twice', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const { sessionId } = await pipeline.client.createSession('u');
    const turnId = 'turn_11111111-2222-4333-8444-555555555555';
    const [a, b] = await Promise.all([
      pipeline.client.enqueueTurn({ sessionId, text: 'uma vez', turnId }),
      pipeline.client.enqueueTurn({ sessionId, text: 'uma vez', turnId }),
    ]);
    expect(a.turnId).toBe(b.turnId);
    await a.result();
    expect(pipeline.llm.script.calls).toBe(1);
    expect((await pipeline.client.statistics(sessionId)).messageCount).toBe(2);
  });

  it('refuses the same turnId with another request (other session, other text), whichever comes first', async () => {
    pipeline = await startPipeline({ store: 'mongo' });
    const { client } = pipeline;
    const one = await client.createSession('u1');
    const two = await client.createSession('u2');
    for (let trial = 0; trial < 5; trial += 1) {
      const turnId = `turn_11111111-2222-4333-8444-${String(trial).padStart(12, '0')}`;
      const outcomes = await Promise.allSettled([
        client.enqueueTurn({ sessionId: one.sessionId, text: 'olá', turnId }),
        client.enqueueTurn({ sessionId: two.sessionId, text: 'olá', turnId }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected');
      expect(refused?.status === 'rejected' ? refused.reason : undefined).toMatchObject({ name: 'ConflictError', code: 'turn_id_conflict' });
      const winner = outcomes.find((o) => o.status === 'fulfilled');
      const sessionId = winner?.status === 'fulfilled' ? winner.value.sessionId : '';
      await expect(client.enqueueTurn({ sessionId, text: 'outra coisa', turnId })).rejects.toMatchObject({ code: 'turn_id_conflict' });
      // The same request again is the same turn.
      const again = await client.enqueueTurn({ sessionId, text: 'olá', turnId });
      expect((await again.result()).replyText).toContain('olá');
    }
  });

  it('accepts a retry with the same turnId after Redis forgot the first attempt, without running it twice', async () => {
    pipeline = await startPipeline({ store: 'mongo' });
    const { client, redis, prefix } = pipeline;
    const { sessionId } = await client.createSession('u');
    const turnId = 'turn_99999999-2222-4333-8444-555555555555';
    const first = await client.enqueueTurn({ sessionId, text: 'de novo', turnId });
    await first.result();
    await redis.del(`${prefix}:turn-ids:${turnId}`);
    const retry = await client.enqueueTurn({ sessionId, text: 'de novo', turnId });
    expect((await retry.result()).replyText).toContain('de novo');
    await expect(client.enqueueTurn({ sessionId, text: 'diferente', turnId })).rejects.toMatchObject({ code: 'turn_id_conflict' });
    expect(pipeline.llm.script.calls).toBe(1);
    expect((await client.statistics(sessionId)).messageCount).toBe(2);
  });
});
