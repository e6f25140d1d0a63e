// Streaming turns in one process (the cross-process barge-in suite is tests/e2e/barge-in.test.ts):
// the event log's order and replay, sentence chunks in order whatever order TTS finishes in,
// time to first audio before the reply is done, history after an interruption, and the order
// of a session's turns.
import { afterEach, describe, expect, it } from 'vitest';
import type { TurnEvent } from '../../src/producers/sdk/turn-events.js';
import { TurnInterruptedError } from '../../src/producers/sdk/turn-result.js';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { INTERRUPTED_MARK } from '../../src/shared/store/session-rules.js';
import { CallLog, PacedLlm, PacedStt, PacedTts, type PacedTimings, type ProviderCall } from '../support/paced-fakes.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

const REPLY = 'Claro! O Dr. Silva atende às 14h30. A consulta custa R$ 1.250,50. Leve o seu documento, por favor.';
const SENTENCES = ['Claro!', 'O Dr. Silva atende às 14h30.', 'A consulta custa R$ 1.250,50.', 'Leve o seu documento, por favor.'];

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

function paced(timings: Partial<PacedTimings>, log = new CallLog(), reply = REPLY) {
  const all: PacedTimings = { sttMs: 20, firstTokenMs: 20, tokensPerS: 400, ttsMsPerSentence: 20, ...timings };
  const { report } = log;
  return { stt: new PacedStt(all, report), llm: new PacedLlm(all, report, { replies: () => reply }), tts: new PacedTts(all, report) };
}

async function collect(events: AsyncIterable<TurnEvent>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('a streamed turn', () => {
  it('yields accepted, transcript, text deltas, each sentence with its audio in order, then completed — and result() still joins the reply', async () => {
    // 40 tokens/s: the reply streams for about a second, far longer than the first sentence's synthesis.
    pipeline = await startPipeline({ providers: paced({ tokensPerS: 40 }) });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-stream');
    const turn = await client.enqueueTurn({ sessionId, audio: await speakPtBr('Que horas o médico atende?') });
    const events = await collect(turn.events());
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('accepted');
    expect(types.at(-1)).toBe('end');
    expect(types.indexOf('transcript')).toBeLessThan(types.indexOf('text'));
    const sentences = events.flatMap((e) => (e.type === 'sentence' ? [e] : []));
    expect(sentences.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(sentences.map((s) => s.text)).toEqual(SENTENCES);
    for (const s of sentences) expect(readWavInfo(s.audio.bytes)?.durationMs).toBeCloseTo(s.audio.durationMs, 0);
    const deltas = events.flatMap((e) => (e.type === 'text' ? [e.delta] : [])).join('');
    expect(deltas).toBe(REPLY);
    // Text deltas go out as they come: the first sentence is out before the last delta.
    expect(types.indexOf('sentence')).toBeLessThan(types.lastIndexOf('text'));
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'end', status: 'completed' });

    const result = await turn.result();
    expect(result.replyText).toBe(REPLY);
    const total = sentences.reduce((ms, s) => ms + s.audio.durationMs, 0);
    expect(result.replyAudio.durationMs).toBeCloseTo(total, 0);
    expect(readWavInfo(result.replyAudio.bytes)?.durationMs).toBeCloseTo(total, 0);
    const t = result.timing;
    expect(t.transcriptMs).toBeLessThanOrEqual(t.firstTokenMs ?? -1);
    expect(t.firstTokenMs).toBeLessThanOrEqual(t.firstSentenceMs ?? -1);
    expect(t.firstSentenceMs).toBeLessThanOrEqual(t.firstAudioMs ?? -1);
    expect(t.firstAudioMs).toBeLessThanOrEqual(t.lastAudioMs ?? -1);
    expect(t.lastAudioMs).toBeLessThanOrEqual(t.totalMs);
  });

  it('replays the whole log to a late consumer, and resumes after the last event another saw', async () => {
    pipeline = await startPipeline({ providers: paced({}) });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-replay');
    const turn = await client.enqueueTurn({ sessionId, text: 'Que horas?' });
    await turn.result();
    const all = await collect(turn.events());
    const late = await collect(client.turnEvents(turn.turnId));
    expect(late.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const middle = all.findIndex((e) => e.type === 'sentence');
    const resumed = await collect(turn.events({ after: all[middle]?.id }));
    expect(resumed.map((e) => e.id)).toEqual(all.slice(middle + 1).map((e) => e.id));
  });

  it('delivers sentence chunks in index order when later sentences finish synthesis first', async () => {
    const log = new CallLog();
    const { calls } = log;
    // The first sentence is the slowest to synthesize, the last the fastest.
    const slow: Record<string, number> = { [SENTENCES[0] ?? '']: 400, [SENTENCES[1] ?? '']: 250, [SENTENCES[2] ?? '']: 120, [SENTENCES[3] ?? '']: 10 };
    pipeline = await startPipeline({ providers: paced({ ttsMsFor: (text) => slow[text] }, log), concurrency: 4 });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-order');
    const turn = await client.enqueueTurn({ sessionId, text: 'Pode me lembrar?' });
    const events = await collect(turn.events());
    expect(events.flatMap((e) => (e.type === 'sentence' ? [e.index] : []))).toEqual([0, 1, 2, 3]);
    // …although synthesis did finish out of order.
    const finished = calls.filter((c) => c.provider === 'tts' && c.event === 'end').map((c) => SENTENCES.indexOf(c.text ?? ''));
    expect(finished).not.toEqual([0, 1, 2, 3]);
    expect((await turn.result()).replyText).toBe(REPLY);
  });

  it('gives the whole reply as one sentence with VOXQ_STREAMING=false, with the same final result', async () => {
    const log = new CallLog();
    const { calls } = log;
    pipeline = await startPipeline({ providers: paced({}, log), env: { VOXQ_STREAMING: 'false' } });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-batch');
    const turn = await client.enqueueTurn({ sessionId, text: 'Que horas?' });
    const events = await collect(turn.events());
    const sentences = events.flatMap((e) => (e.type === 'sentence' ? [e] : []));
    expect(sentences.map((s) => s.text)).toEqual([REPLY]);
    expect(calls.filter((c) => c.provider === 'tts' && c.event === 'start')).toHaveLength(1);
    expect((await turn.result()).replyText).toBe(REPLY);
  });
});

describe('interruption (barge-in)', () => {
  async function interruptedAfterSentences(pipelineReady: Pipeline, count: number, playedMs?: number) {
    const { client } = pipelineReady;
    const { sessionId } = await client.createSession('u-barge');
    const turn = await client.enqueueTurn({ sessionId, text: 'Me conte tudo.' });
    const seen: TurnEvent[] = [];
    for await (const event of turn.events()) {
      seen.push(event);
      if (event.type === 'sentence' && event.index === count - 1) break;
    }
    const cancelled = await client.cancelSession(sessionId, playedMs === undefined ? {} : { playedMs });
    return { client, sessionId, turn, seen, cancelled };
  }

  it('stops the turn, ends its log with interrupted and nothing after, and keeps the sentences read as heard', async () => {
    const log = new CallLog();
    const { calls } = log;
    pipeline = await startPipeline({ providers: paced({ tokensPerS: 20, ttsMsPerSentence: 60 }, log) });
    const { client, sessionId, turn, cancelled } = await interruptedAfterSentences(pipeline, 2);
    const returnedAt = Date.now();
    expect(cancelled).toBe(true);
    const events = await collect(turn.events());
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'end', status: 'interrupted', heardText: `${SENTENCES[0]} ${SENTENCES[1]}` });
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    const error = await turn.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TurnInterruptedError);
    expect(error).toMatchObject({ heardText: `${SENTENCES[0]} ${SENTENCES[1]}` });
    // Nothing of the turn starts after cancel returned; what was running was aborted.
    await log.settled();
    expect(calls.filter((c) => c.event === 'start' && c.at > returnedAt)).toEqual([]);
    // (How soon they stop is measured by `npm run bench -- stream`: cancel_quiet_p99_ms.)
    const history = await client.history(sessionId);
    expect(history.map((m) => [m.role, m.content, m.metadata.interrupted ?? false])).toEqual([
      ['user', 'Me conte tudo.', false],
      ['assistant', `${SENTENCES[0]} ${SENTENCES[1]}`, true],
    ]);
    expect((await turn.turn()).status).toBe('interrupted');
    expect(await client.cancelSession(sessionId)).toBe(false); // idempotent, nothing in flight
    // Its queued and delayed jobs are gone.
    for (const stage of ['llm', 'tts'] as const) {
      const counts = await pipeline.queues.get(stage).getJobCounts('waiting', 'delayed', 'prioritized');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    }
  });

  it('cuts the reply inside the sentence that was playing at the last word played (playedMs)', async () => {
    pipeline = await startPipeline({ providers: paced({ tokensPerS: 20, ttsMsPerSentence: 60 }) });
    // The fake speaks 10 ms a character: "Claro!" lasts 60 ms, "O Dr. Silva atende às 14h30." 280 ms;
    // 200 ms into it is 20 of its 28 characters: "O Dr. Silva atende" (18) was said, "às" (21) not yet.
    const { turn, client, sessionId } = await interruptedAfterSentences(pipeline, 2, 60 + 200);
    const events = await collect(turn.events());
    const heard = `${SENTENCES[0]} O Dr. Silva atende`;
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'interrupted', heardText: heard, playedMs: 260 });
    const history = await client.history(sessionId);
    expect(history.at(-1)).toMatchObject({ role: 'assistant', content: heard, metadata: { interrupted: true } });
    expect((await turn.turn()).interruption).toEqual({ heardText: heard, playedMs: 260, sentencesHeard: 2 });
  });

  it('leaves no assistant message when nothing was heard, and the next turn sees the cut-off reply as cut off', async () => {
    const log = new CallLog();
    const { calls } = log;
    const providers = paced({ firstTokenMs: 400 }, log);
    pipeline = await startPipeline({ providers });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-nothing');
    const first = await client.enqueueTurn({ sessionId, text: 'Primeira pergunta.' });
    for await (const event of first.events()) if (event.type === 'stage' && event.stage === 'llm') break;
    expect(await first.cancel({ playedMs: 0 })).toBe(true);
    expect((await client.history(sessionId)).map((m) => m.role)).toEqual(['user']);
    // The LLM call was aborted, not left running.
    await log.settled();
    expect(calls.filter((c) => c.provider === 'llm').map((c) => c.event)).toEqual(['start', 'aborted']);

    const second = await client.enqueueTurn({ sessionId, text: 'Segunda pergunta.' });
    await second.result();
    const third = await client.enqueueTurn({ sessionId, text: 'E então?' });
    for await (const event of third.events()) if (event.type === 'sentence') break;
    await third.cancel({ playedMs: 100 });
    const fourth = await client.enqueueTurn({ sessionId, text: 'Continue.' });
    await fourth.result();
    const history = providers.llm.lastCall?.options.history ?? [];
    const cut = history.find((m) => m.content.includes(INTERRUPTED_MARK));
    expect(cut?.role).toBe('assistant');
    expect(cut?.content.startsWith('Claro!')).toBe(true);
  });

  it('enqueueTurn with bargeIn cancels the session turn in flight before the new one runs', async () => {
    pipeline = await startPipeline({ providers: paced({ tokensPerS: 10 }) });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-bargein');
    const first = await client.enqueueTurn({ sessionId, text: 'Fale bastante.' });
    for await (const event of first.events()) if (event.type === 'text') break;
    const second = await client.enqueueTurn({ sessionId, text: 'Pare, outra coisa.', bargeIn: true });
    await expect(first.result()).rejects.toBeInstanceOf(TurnInterruptedError);
    expect((await second.result()).replyText).toBe(REPLY);
  });

  it('refuses a bad playedMs and an unknown session, naming them', async () => {
    pipeline = await startPipeline({ providers: paced({}) });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u-bad');
    await expect(client.cancelSession(sessionId, { playedMs: -1 })).rejects.toMatchObject({ code: 'invalid_played_ms' });
    await expect(client.cancelSession('sess_nope')).rejects.toMatchObject({ code: 'invalid_session_id' });
    await expect(client.cancelSession('sess_00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'session_not_found' });
  });
});

describe('the turns of one session', () => {
  it('run their LLM stage one after the other, the second seeing the first; other sessions are not held up', async () => {
    const log = new CallLog();
    const { calls } = log;
    pipeline = await startPipeline({ providers: paced({ firstTokenMs: 1500 }, log), concurrency: 4 });
    const { client } = pipeline;
    const a = await client.createSession('u-order-a');
    const b = await client.createSession('u-order-b');
    const first = await client.enqueueTurn({ sessionId: a.sessionId, text: 'Um.' });
    const second = await client.enqueueTurn({ sessionId: a.sessionId, text: 'Dois.' });
    const other = await client.enqueueTurn({ sessionId: b.sessionId, text: 'Outro.' });
    await Promise.all([first.result(), second.result(), other.result()]);
    const llm = calls.filter((c) => c.provider === 'llm');
    const at = (prompt: string, event: ProviderCall['event']) => llm.find((c) => c.text === prompt && c.event === event)?.at ?? NaN;
    expect(at('Dois.', 'start')).toBeGreaterThanOrEqual(at('Um.', 'end'));
    // The other session's LLM call did not wait for the first turn's (each takes at least 1.5 s).
    expect(at('Outro.', 'start')).toBeLessThan(at('Um.', 'end') - 500);
    const history = (await client.history(a.sessionId)).map((m) => m.content);
    expect(history).toEqual(['Um.', REPLY, 'Dois.', REPLY]);
  });
});
