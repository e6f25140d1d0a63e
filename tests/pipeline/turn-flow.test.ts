// A turn through the real stage runner, real Redis and the real test database, with fake
// providers: results, timing, what MongoDB holds afterwards, and session history.
import { afterEach, describe, expect, it } from 'vitest';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { messageId } from '../../src/shared/contracts/ids.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe('a turn through the pipeline', () => {
  it('goes stt → llm → tts and returns transcription, reply, playable audio and timing per stage', async () => {
    pipeline = await startPipeline({ stt: { transcripts: ['Qual é a previsão do tempo?'] } });
    const { client } = pipeline;
    const session = await client.createSession('user-1', { device: 'test' });
    const audio = await speakPtBr('Qual é a previsão do tempo?');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio, voice: 'pf_dora', language: 'pt-BR' });
    const result = await handle.result();

    expect(result.transcription).toBe('Qual é a previsão do tempo?');
    expect(result.replyText).toContain('Qual é a previsão do tempo?');
    const wav = readWavInfo(result.replyAudio.bytes);
    expect(wav?.durationMs).toBeGreaterThan(0);
    expect(result.replyAudio.format.container).toBe('wav');
    for (const stage of ['stt', 'llm', 'tts'] as const) {
      expect(result.timing[stage]?.queueWaitMs).toBeGreaterThanOrEqual(0);
      expect(result.timing[stage]?.workMs).toBeGreaterThanOrEqual(0);
      expect(result.timing[stage]?.attempts).toBe(1);
    }
    expect(result.timing.totalMs).toBeGreaterThan(0);

    // The STT provider got the language as the one BCP-47 tag; the TTS the voice and language.
    expect(pipeline.stt.lastCall?.options.language).toBe('pt-BR');
    expect(pipeline.tts.lastCall?.options).toMatchObject({ voice: 'pf_dora', language: 'pt-BR', speed: 1 });
  });

  it('leaves the session, the turn with every stage, two messages and statistics in the store', async () => {
    pipeline = await startPipeline();
    const { client, stores } = pipeline;
    const session = await client.createSession('user-2');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr('Bom dia') });
    await handle.result();

    const turn = await stores.turns.get(handle.turnId);
    expect(turn?.status).toBe('completed');
    expect(turn?.completedAt).toBeInstanceOf(Date);
    expect(Object.keys(turn?.stages ?? {}).sort()).toEqual(['llm', 'stt', 'tts']);
    expect(turn?.input.kind).toBe('audio');

    const messages = await client.history(session.sessionId);
    expect(messages.map((m) => [m.role, m.messageId])).toEqual([
      ['user', messageId(handle.turnId, 'user')],
      ['assistant', messageId(handle.turnId, 'assistant')],
    ]);
    expect(messages[1]?.metadata).toMatchObject({ voiceUsed: 'pf_dora' });
    const stats = await client.statistics(session.sessionId);
    expect(stats.messageCount).toBe(2);
    expect((await stores.sessions.getSession(session.sessionId))?.interactionCount).toBe(1);
    // Input and reply audio are in the database, referenced by id; Redis never held the bytes.
    expect((await stores.audio.get(`${handle.turnId}.input`)).bytes.byteLength).toBeGreaterThan(1000);
  });

  it("lets the third turn's LLM call see the session's earlier messages, oldest first", async () => {
    pipeline = await startPipeline();
    const { client } = pipeline;
    const session = await client.createSession('user-3');
    await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'primeira pergunta' })).result();
    await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'segunda pergunta' })).result();
    const third = await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'terceira pergunta' })).result();

    const history = pipeline.llm.lastCall?.options.history ?? [];
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(history[0]?.content).toBe('primeira pergunta');
    expect(history[2]?.content).toBe('segunda pergunta');
    expect(third.replyText).toContain('Já conversamos 2 vezes');
    expect(third.transcription).toBeUndefined();
    expect(third.timing.stt).toBeUndefined();
    expect((await client.statistics(session.sessionId)).messageCount).toBe(6);
  });

  it('passes per-turn LLM overrides to the provider and defaults otherwise', async () => {
    pipeline = await startPipeline();
    const { client } = pipeline;
    const session = await client.createSession('user-4');
    await (
      await client.enqueueTurn({
        sessionId: session.sessionId,
        text: 'oi',
        llm: { systemPrompt: 'Seja breve.', temperature: 0.2, maxTokens: 64 },
      })
    ).result();
    expect(pipeline.llm.lastCall?.options).toMatchObject({ systemPrompt: 'Seja breve.', temperature: 0.2, maxTokens: 64 });
    await (await client.enqueueTurn({ sessionId: session.sessionId, text: 'de novo' })).result();
    expect(pipeline.llm.lastCall?.options).toMatchObject({ temperature: 0.7, maxTokens: 500 });
    expect(pipeline.llm.lastCall?.options.systemPrompt).toContain('português do Brasil');
  });

  it('runs many turns at once and answers each with its own reply', async () => {
    pipeline = await startPipeline({ concurrency: 4, llm: { latencyMs: 5 } });
    const { client } = pipeline;
    const sessions = await Promise.all([1, 2, 3, 4].map((n) => client.createSession(`u${n}`)));
    const handles = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.enqueueTurn({ sessionId: sessions[i % 4]!.sessionId, text: `pergunta ${i}` })),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    results.forEach((r, i) => expect(r.replyText).toContain(`pergunta ${i}`));
    const counts = await Promise.all(sessions.map((s) => client.statistics(s.sessionId)));
    expect(counts.map((c) => c.messageCount)).toEqual([10, 10, 10, 10]);
  });

  it('reports stage timings and turn outcomes through the Metrics port', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const { client } = pipeline;
    const session = await client.createSession('user-5');
    await (await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr('olá') })).result();
    const names = pipeline.metrics.calls.map((c) => `${c.kind}:${c.name}:${String(c.tags?.stage ?? c.tags?.outcome ?? '')}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'timing:voxq.stage.duration:stt',
        'timing:voxq.stage.duration:llm',
        'timing:voxq.stage.duration:tts',
        'timing:voxq.stage.queue_wait:llm',
        'increment:voxq.turns:completed',
      ]),
    );
  });
});
