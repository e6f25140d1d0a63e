// A reply the user stopped listening to after its turn had completed (synthesis is faster than
// playback, so this is the usual barge-in): the stored reply is cut at the last word played and
// marked interrupted, the session's next turn sees it cut, and a reply played to its end stays whole.
import { afterEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_MARK } from '../../src/shared/store/session-rules.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe('replyHeard on a completed turn', () => {
  it('cuts the stored reply where playback stopped, the next turn sees it cut; a reply played whole stays whole', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u');
    const first = await client.enqueueTurn({ sessionId, text: 'conte' });
    const done = await first.result();
    // Two sentences: 'Entendi: "conte".' then 'Já conversamos 0 vezes.' (the fake TTS gives each its own duration).
    expect(done.replyText).toBe('Entendi: "conte". Já conversamos 0 vezes.');
    const events = [];
    for await (const event of first.events()) if (event.type === 'sentence') events.push(event);
    const [one, two] = events.map((e) => (e.type === 'sentence' ? e.audio.durationMs : 0)) as [number, number];
    // Stopped a third of the way into the second sentence: its first word was heard.
    const playedMs = one + Math.round(two * 0.35);
    expect(await client.replyHeard(first.turnId, { playedMs })).toBe(true);
    const history = await client.history(sessionId);
    expect(history.map((m) => [m.role, m.content])).toEqual([
      ['user', 'conte'],
      ['assistant', 'Entendi: "conte". Já'],
    ]);
    expect(history[1]?.metadata).toMatchObject({ interrupted: true, playedMs });

    const second = await client.enqueueTurn({ sessionId, text: 'e depois?' });
    await second.result();
    const context = pipeline.llm.lastCall?.options.history?.map((m) => m.content);
    expect(context).toEqual(['conte', `Entendi: "conte". Já ${INTERRUPTED_MARK}`]);
    // The second reply played to its end: nothing to cut.
    expect(await client.replyHeard(second.turnId, { playedMs: 60_000 })).toBe(false);
    expect((await client.history(sessionId)).at(-1)?.metadata.interrupted).toBeUndefined();
  });

  it('removes a reply of which nothing was heard', async () => {
    pipeline = await startPipeline({ store: 'memory' });
    const { client } = pipeline;
    const { sessionId } = await client.createSession('u');
    const turn = await client.enqueueTurn({ sessionId, text: 'oi' });
    await turn.result();
    expect(await client.replyHeard(turn.turnId, { playedMs: 0 })).toBe(true);
    expect((await client.history(sessionId)).map((m) => m.role)).toEqual(['user']);
  });
});
