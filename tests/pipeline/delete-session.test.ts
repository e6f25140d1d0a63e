// Deleting a person's data: deleteSession removes the session, its turns, messages, audio, event
// logs and live state from every store, cancelling what is in flight; a second call finds nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/shared/errors.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe.each(['mongo', 'memory'] as const)('deleteSession (%s store)', (store) => {
  it('removes the session, its turns, messages, audio and Redis keys, idempotently, and leaves other sessions alone', async () => {
    pipeline = await startPipeline({ store, llm: { latencyMs: 0 } });
    const { client, redis, prefix, stores } = pipeline;
    const mine = await client.createSession('titular-dos-dados');
    const other = await client.createSession('outra-pessoa');
    const spoken = await client.enqueueTurn({ sessionId: mine.sessionId, audio: await speakPtBr('Meu CPF é 123.456.789-00.'), turnId: 'turn_aaaaaaaa-2222-4333-8444-555555555555' });
    await spoken.result();
    const typed = await client.enqueueTurn({ sessionId: mine.sessionId, text: 'Meu endereço é Rua A, 10.' });
    await typed.result();
    await (await client.enqueueTurn({ sessionId: other.sessionId, text: 'Oi.' })).result();
    const replyAudio = (await client.getTurn(typed.turnId)).stages.tts?.output.audio.audioId ?? '';

    expect(await client.deleteSession(mine.sessionId)).toBe(true);

    await expect(client.getSession(mine.sessionId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.getTurn(spoken.turnId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await stores.conversations.history(mine.sessionId)).toEqual([]);
    expect(await stores.turns.listBySession(mine.sessionId)).toEqual([]);
    await expect(stores.audio.get(`${spoken.turnId}.input`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.audio.get(replyAudio)).rejects.toBeInstanceOf(NotFoundError);
    expect(await redis.keys(`${prefix}:{${mine.sessionId}}:*`)).toEqual([]);
    expect(await redis.exists(`${prefix}:turn-ids:${spoken.turnId}`)).toBe(0);
    // Nothing of it is left anywhere a Redis key could carry it.
    const everything = await redis.keys(`${prefix}:*`);
    for (const key of everything) expect(key).not.toContain(mine.sessionId);

    expect(await client.deleteSession(mine.sessionId)).toBe(false);
    expect((await client.history(other.sessionId)).length).toBe(2);
  });

  it('cancels a turn in flight before deleting, and refuses a malformed id', async () => {
    pipeline = await startPipeline({ store, llm: { latencyMs: 5_000 } });
    const { client, redis, prefix } = pipeline;
    const { sessionId } = await client.createSession('apressado');
    const turn = await client.enqueueTurn({ sessionId, text: 'Ainda pensando…' });
    for await (const event of turn.events()) if (event.type === 'stage') break;
    expect(await client.deleteSession(sessionId)).toBe(true);
    const ended = await turn.result({ timeoutMs: 5000 }).catch((error: unknown) => error);
    expect(['interrupted', 'turn_not_found']).toContain((ended as { code?: string }).code);
    expect(await redis.keys(`${prefix}:{${sessionId}}:*`)).toEqual([]);
    await expect(client.deleteSession('sess_../../x')).rejects.toMatchObject({ code: 'invalid_session_id' });
  });

  it("erases sessions past VOXQ_RETENTION_DAYS on the reconciler's schedule", async () => {
    pipeline = await startPipeline({ store, env: { VOXQ_RETENTION_DAYS: '30' } });
    const { client, redis, prefix } = pipeline;
    const old = await client.createSession('antigo');
    await (await client.enqueueTurn({ sessionId: old.sessionId, text: 'há muito tempo' })).result();
    const recent = await client.createSession('recente');
    const reconciler = pipeline.worker?.reconciler;
    if (!reconciler) throw new Error('the pipeline has no worker');
    // Nothing is 30 days old yet.
    expect(await reconciler.applyRetention(Date.now(), true)).toBe(0);
    // 31 days from now, both are past it.
    const later = Date.now() + 31 * 24 * 3600_000;
    expect(await reconciler.applyRetention(later, true)).toBeGreaterThanOrEqual(2);
    await expect(client.getSession(old.sessionId)).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(client.getSession(recent.sessionId)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await redis.keys(`${prefix}:{${old.sessionId}}:*`)).toEqual([]);
  });
});
