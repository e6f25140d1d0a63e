// GET /v1/turns/:id/events and POST /v1/sessions/:id/cancel on real Redis, the test database and
// the API process: a turn's event log as server-sent events — the snapshot, `accepted`, stages,
// reply text deltas, each sentence with its audio as soon as it is synthesized, `end`, `done` —
// resumed with Last-Event-ID, and a barge-in that ends the stream with `interrupted`. Every
// stream is read as a browser's fetch-based client reads it: the body's ReadableStream, decoded
// as it arrives.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import type { TurnLogEvent } from '../../src/shared/contracts/turn-event.js';
import { turnKeys } from '../../src/shared/live/live-keys.js';
import { parseLogFields } from '../../src/shared/live/live-turns.js';
import { compareStreamIds } from '../../src/shared/live/turn-log-reader.js';
import { defaultFakeReply } from '../../src/shared/providers/fake-llm.js';
import type { SynthesizeOptions } from '../../src/shared/ports/tts-provider.js';
import { startApiProcess } from '../../src/producers/http/api-process.js';
import { quietLogger } from '../support/pipeline.js';
import { expectError, startApiHarness, type ApiHarness } from './api-harness.js';

/** A question the fake LLM answers with three sentences; anything else gets its default one-liner. */
const QUESTION = 'Qual é o prazo do frete?';
const SENTENCES = ['Claro, posso ajudar com isso.', 'O frete chega em dois dias úteis.', 'Quer que eu confirme o pedido agora?'];
/** A word only the last sentence has: its synthesis is the one a test holds back. */
const LAST_SENTENCE_WORD = 'pedido';

interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Server-sent events off a fetch response, as a browser reads them without EventSource: the
 * body's reader, a streaming TextDecoder, one event per block ending in a blank line, comment
 * lines skipped. `seen` keeps every event read so far.
 */
class SseStream {
  readonly seen: SseEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private ended = false;

  constructor(res: Response) {
    if (!res.body) throw new Error(`no body (status ${res.status})`);
    this.reader = res.body.getReader();
  }

  /** The next event, or undefined once the server has ended the stream. */
  async next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) {
          this.seen.push(event);
          return event;
        }
        continue;
      }
      if (this.ended) return undefined;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        this.buffer += this.decoder.decode();
      } else {
        this.buffer += this.decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      }
    }
  }

  /** Reads up to the first event that matches; fails if the stream ends first. */
  async until(matches: (e: SseEvent) => boolean, what: string): Promise<SseEvent> {
    for (let e = await this.next(); e; e = await this.next()) if (matches(e)) return e;
    throw new Error(`the stream ended before ${what}; it sent ${this.seen.map((s) => s.event).join(', ')}`);
  }

  /** Reads to the end of the stream; returns every event it sent. */
  async rest(): Promise<SseEvent[]> {
    while (await this.next());
    return this.seen;
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined; // only comments (the keep-alive)
  return { id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
}

const types = (events: SseEvent[]) => events.map((e) => e.event);
const stages = (events: SseEvent[]) => events.filter((e) => e.event === 'stage').map((e) => `${String(e.data.stage)}:${String(e.data.status)}`);
const sentences = (events: SseEvent[]) => events.filter((e) => e.event === 'sentence');
/** Events with their log ids, as `type@id`, for comparing what two reads got. */
const withIds = (events: SseEvent[]) => events.filter((e) => e.id !== undefined).map((e) => `${e.event}@${e.id ?? ''}`);

let h: ApiHarness;
let writer: string;
let reader: string;

beforeAll(async () => {
  h = await startApiHarness({ llm: { replies: (prompt, options) => (prompt.includes('frete') ? SENTENCES.join(' ') : defaultFakeReply(prompt, options)) } });
  h.startWorkers();
  writer = await h.key('turns:read', 'turns:write');
  reader = await h.key('turns:read');
});
afterAll(() => h.close());

/** A session of its own per test: a turn left in flight by one test never holds up another's. */
async function newSession(): Promise<string> {
  const res = await h.fetch('/v1/sessions', { key: writer, json: { userId: 'bia' } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { sessionId: string }).sessionId;
}

async function submit(body: Record<string, unknown>): Promise<{ turnId: string; sessionId: string; links: Record<string, string> }> {
  const res = await h.fetch('/v1/turns', { key: writer, json: body });
  expect(res.status).toBe(202);
  return (await res.json()) as { turnId: string; sessionId: string; links: Record<string, string> };
}

async function openEvents(path: string, init: { lastEventId?: string; signal?: AbortSignal } = {}): Promise<SseStream> {
  const res = await h.fetch(path, {
    key: reader,
    ...(init.signal ? { signal: init.signal } : {}),
    ...(init.lastEventId !== undefined ? { headers: { 'last-event-id': init.lastEventId } } : {}),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new SseStream(res);
}

/** Holds back the TTS calls for the sentences with these words until each is released; the others run as usual. */
function holdSentences(...words: string[]): { release(word: string): void; restore(): void } {
  const tts = h.pipeline.tts;
  const synthesize = tts.synthesize.bind(tts);
  const gates = new Map(
    words.map((word) => {
      let open: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return [word, { opened, open }];
    }),
  );
  tts.synthesize = async (text: string, options: SynthesizeOptions) => {
    for (const [word, gate] of gates) if (text.includes(word)) await gate.opened;
    return synthesize(text, options);
  };
  return {
    release: (word) => gates.get(word)?.open(),
    restore() {
      for (const gate of gates.values()) gate.open();
      Reflect.deleteProperty(tts, 'synthesize');
    },
  };
}

/** Resolves once the turn's event log holds an event that matches (read straight from Redis: no consumer marks anything read). */
async function untilLogged(turn: { sessionId: string; turnId: string }, matches: (e: TurnLogEvent) => boolean): Promise<void> {
  const redis = h.pipeline.redis.duplicate();
  try {
    const key = turnKeys(h.pipeline.prefix, turn.sessionId, turn.turnId).log;
    for (let after = '0'; ; ) {
      const reply = await redis.xread('BLOCK', 20_000, 'STREAMS', key, after);
      if (!reply) throw new Error(`nothing matching was logged for turn ${turn.turnId}`);
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          after = id;
          const event = parseLogFields(fields);
          if (event && matches(event)) return;
        }
      }
    }
  } finally {
    await redis.quit();
  }
}

/** A turn whose LLM call stays in flight (fake latency) until its session is cancelled; run `done` afterwards. */
async function slowTurn(): Promise<{ turnId: string; sessionId: string; links: Record<string, string>; done(): Promise<void> }> {
  const sessionId = await newSession();
  h.pipeline.llm.script.latencyMs = 30_000;
  const accepted = await submit({ sessionId, text: 'Pense com calma antes de responder.' }).catch((error: unknown) => {
    h.pipeline.llm.script.latencyMs = 0;
    throw error;
  });
  return {
    ...accepted,
    async done() {
      await h.pipeline.client.cancelSession(sessionId); // aborts the call in flight, if it still is
      h.pipeline.llm.script.latencyMs = 0;
    },
  };
}

describe('GET /v1/turns/:turnId/events', () => {
  it('streams a text turn: snapshot, accepted, the llm stage, text deltas, each sentence with its WAV, end, done', async () => {
    const accepted = await submit({ sessionId: await newSession(), text: QUESTION });
    expect(accepted.links.events).toBe(`/v1/turns/${accepted.turnId}/events`);
    const events = await (await openEvents(accepted.links.events ?? '')).rest();

    expect(events[0]).toMatchObject({ id: undefined, event: 'turn', data: { turnId: accepted.turnId } });
    expect(events[1]).toMatchObject({ event: 'accepted', data: { route: 'text-llm-tts' } });
    expect(types(events).slice(-2)).toEqual(['end', 'done']);
    expect(events.filter((e) => e.event === 'end')).toHaveLength(1);
    // Every log event carries its log id, in log order; the snapshot and `done` carry none.
    const ids = events.slice(1, -1).map((e) => e.id ?? '');
    expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
    for (let i = 1; i < ids.length; i += 1) expect(compareStreamIds(ids[i] ?? '', ids[i - 1] ?? '')).toBeGreaterThan(0);

    expect(stages(events)).toEqual(['llm:running']);
    const firstText = types(events).indexOf('text');
    expect(types(events).indexOf('stage')).toBeLessThan(firstText);
    const replyText = SENTENCES.join(' ');
    expect(events.filter((e) => e.event === 'text').map((e) => String(e.data.delta)).join('')).toBe(replyText);

    const said = sentences(events);
    expect(said.map((e) => e.data.index)).toEqual([0, 1, 2]);
    expect(said.map((e) => e.data.text)).toEqual(SENTENCES);
    for (const sentence of said) {
      const audio = sentence.data.audio as { base64: string; mimeType: string; sizeBytes: number };
      const bytes = new Uint8Array(Buffer.from(audio.base64, 'base64'));
      expect(audio).toMatchObject({ mimeType: 'audio/wav', sizeBytes: bytes.byteLength });
      expect(readWavInfo(bytes)).toMatchObject({ sampleRateHz: 16_000, channels: 1, bitsPerSample: 16 });
      expect(readWavInfo(bytes)?.durationMs).toBeGreaterThan(0);
      // The chunk route serves the very bytes the event carried.
      expect(sentence.data.audioUrl).toBe(`/v1/turns/${accepted.turnId}/audio/${String(sentence.data.index)}`);
      const served = await h.fetch(String(sentence.data.audioUrl), { key: reader });
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^audio\/wav/);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    }
    await expectError(await h.fetch(`/v1/turns/${accepted.turnId}/audio/3`, { key: reader }), 404, 'sentence_not_found');

    expect(events.at(-2)?.data).toMatchObject({ status: 'completed' });
    const done = events.at(-1)?.data as { status: string; stagesDone: string[]; replyText: string; replyAudio: { url: string }; timing: Record<string, number> };
    expect(done).toMatchObject({ turnId: accepted.turnId, status: 'completed', stagesDone: ['llm', 'tts'], replyText, replyAudio: { url: accepted.links.audio } });
    // The milestones, in ms after enqueue: the first token, then the first audio, within the turn.
    expect(done.timing.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(done.timing.firstAudioMs).toBeGreaterThanOrEqual(done.timing.firstTokenMs ?? 0);
    expect(done.timing.firstAudioMs).toBeLessThanOrEqual(done.timing.totalMs ?? 0);
  });

  it('sends the first sentence while the rest of the reply is still being synthesized', async () => {
    const held = holdSentences(LAST_SENTENCE_WORD);
    try {
      const accepted = await submit({ sessionId: await newSession(), text: QUESTION });
      const stream = await openEvents(accepted.links.events ?? '');
      const first = await stream.until((e) => e.event === 'sentence', 'a sentence');
      expect(first.data).toMatchObject({ index: 0, text: SENTENCES[0] });
      // The last sentence's audio is held back: the turn cannot have ended yet.
      expect(types(stream.seen)).not.toContain('end');
      const now = (await (await h.fetch(`/v1/turns/${accepted.turnId}`, { key: reader })).json()) as { status: string };
      expect(['queued', 'running']).toContain(now.status);

      held.release(LAST_SENTENCE_WORD);
      const events = await stream.rest();
      expect(sentences(events).map((e) => e.data.index)).toEqual([0, 1, 2]);
      expect(types(events).indexOf('sentence')).toBeLessThan(types(events).indexOf('end'));
      expect(events.at(-2)).toMatchObject({ event: 'end', data: { status: 'completed' } });
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
    } finally {
      held.restore();
    }
  });

  it('resumes after Last-Event-ID with only the events that came after it', async () => {
    const accepted = await submit({ sessionId: await newSession(), text: QUESTION });
    const full = await (await openEvents(accepted.links.events ?? '')).rest();
    const mid = sentences(full)[0];
    expect(mid?.id).toBeDefined();
    const tail = full.slice(full.indexOf(mid as SseEvent) + 1);

    const resumed = await (await openEvents(accepted.links.events ?? '', { lastEventId: mid?.id ?? '' })).rest();
    expect(resumed[0]).toMatchObject({ event: 'turn', data: { turnId: accepted.turnId, status: 'completed' } });
    expect(withIds(resumed.slice(1))).toEqual(withIds(tail));
    expect(types(resumed.slice(1))).toEqual(types(tail));
    expect(sentences(resumed).map((e) => e.data.index)).toEqual([1, 2]);
    expect(resumed.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
  });

  it('ends a turn that fails for good with end (failed, its error) and done', async () => {
    h.pipeline.llm.script.failNext({ kind: 'bad_request' });
    const accepted = await submit({ sessionId: await newSession(), text: 'Isto vai falhar.' });
    const events = await (await openEvents(accepted.links.events ?? '')).rest();
    const error = { stage: 'llm', code: 'provider_bad_request' };
    expect(types(events).slice(-2)).toEqual(['end', 'done']);
    expect(events.at(-2)?.data).toMatchObject({ status: 'failed', error });
    expect(events.at(-1)?.data).toMatchObject({ turnId: accepted.turnId, status: 'failed', error });
    expect(types(events)).not.toContain('sentence');
  });

  it('refuses what other turn routes refuse: no key, no turns:read, a bad Last-Event-ID, a bad id, an unknown turn', async () => {
    const path = `/v1/turns/${newTurnId()}/events`;
    await expectError(await h.fetch(path), 401, 'unauthorized');
    await expectError(await h.fetch(path, { key: await h.key('metrics:read') }), 403, 'missing_scope');
    await expectError(await h.fetch('/v1/turns/not-a-turn/events', { key: reader }), 400, 'invalid_input');
    for (const lastEventId of ['yesterday', '12', '1-2-3', 'record-x']) {
      await expectError(await h.fetch(path, { key: reader, headers: { 'last-event-id': lastEventId } }), 400, 'invalid_input');
    }
    await expectError(await h.fetch(path, { key: reader }), 404, 'turn_not_found');
  });

  it('lets go of a client that leaves: it reads nothing more, the turn goes on, the API stays healthy', async () => {
    // Sentence 0 waits until the client has gone, sentence 2 until the end of the test.
    const held = holdSentences('ajudar', LAST_SENTENCE_WORD);
    const server = h.api.app.server;
    let socket: Socket | undefined;
    const onRequest = (request: IncomingMessage) => {
      if (request.url?.endsWith('/events')) socket = request.socket;
    };
    server.on('request', onRequest);
    try {
      const turn = await submit({ sessionId: await newSession(), text: QUESTION });
      const leaving = new AbortController();
      const stream = await openEvents(turn.links.events ?? '', { signal: leaving.signal });
      await stream.until((e) => e.event === 'text', 'the reply text');
      expect(socket?.destroyed).toBe(false);
      const closed = socket ? once(socket, 'close') : Promise.reject(new Error('the events request never reached the server'));
      leaving.abort();
      await closed; // the server let the connection go

      // Sentences 0 and 1 reach the log after the client left: nobody read them for it.
      held.release('ajudar');
      await untilLogged(turn, (e) => e.type === 'sentence' && e.index === 1);
      expect(await h.pipeline.redis.hget(turnKeys(h.pipeline.prefix, turn.sessionId, turn.turnId).state, 'read')).toBeNull();
      expect((await h.fetch('/healthz')).status).toBe(200);

      // The turn did not notice: it is still in flight, and a cancel stores nothing as heard.
      const cancel = await h.fetch(`/v1/sessions/${turn.sessionId}/cancel`, { key: writer, method: 'POST' });
      expect(await cancel.json()).toEqual({ cancelled: true });
      const events = await (await openEvents(turn.links.events ?? '')).rest();
      expect(events.at(-2)).toMatchObject({ event: 'end', data: { status: 'interrupted', heardText: '' } });
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'interrupted' } });
    } finally {
      server.off('request', onRequest);
      held.restore();
    }
  });

  it('ends its open streams when the API shuts down, instead of holding the shutdown', async () => {
    const second = await startApiProcess({ config: h.pipeline.config, port: 0, host: '127.0.0.1', log: quietLogger() });
    const turn = await slowTurn();
    try {
      const key = (await second.keys.create({ scopes: ['turns:read'], name: 'test' })).key;
      const res = await fetch(`${second.url}${turn.links.events ?? ''}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const stream = new SseStream(res);
      await stream.until((e) => e.event === 'accepted', 'accepted');
      // A stream left open would hold close() until its turn ends, which this one never does by itself.
      await second.close();
      const events = await stream.rest();
      expect(types(events)[0]).toBe('turn');
      expect(types(events)).not.toContain('end');
      expect(types(events)).not.toContain('done');
    } finally {
      await second.close();
      await turn.done();
    }
  });
});

describe('POST /v1/sessions/:sessionId/cancel', () => {
  it('interrupts the turn in flight: cancelled true, the turn interrupted, its stream ends with end interrupted', async () => {
    const turn = await slowTurn();
    try {
      const stream = await openEvents(turn.links.events ?? '');
      await stream.until((e) => e.event === 'stage' && e.data.stage === 'llm' && e.data.status === 'running', 'the llm stage running');

      const res = await h.fetch(`/v1/sessions/${turn.sessionId}/cancel`, { key: writer, method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ cancelled: true });

      const events = await stream.rest();
      expect(events.at(-2)).toMatchObject({ event: 'end', data: { status: 'interrupted', heardText: '' } });
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { turnId: turn.turnId, status: 'interrupted' } });
      expect(types(events)).not.toContain('sentence');
      const now = (await (await h.fetch(`/v1/turns/${turn.turnId}`, { key: reader })).json()) as { status: string };
      expect(now.status).toBe('interrupted');
      // Nothing of the session is in flight any more.
      expect(await (await h.fetch(`/v1/sessions/${turn.sessionId}/cancel`, { key: writer, json: { playedMs: 0 } })).json()).toEqual({ cancelled: false });
    } finally {
      await turn.done();
    }
  });

  it('keeps the reply as far as the client played it (playedMs), the sentence playing cut at a word', async () => {
    const held = holdSentences(LAST_SENTENCE_WORD);
    try {
      const turn = await submit({ sessionId: await newSession(), text: QUESTION });
      const stream = await openEvents(turn.links.events ?? '');
      const second = await stream.until((e) => e.event === 'sentence' && e.data.index === 1, 'sentence 1');
      const durationMs = (e: SseEvent | undefined) => (e?.data.audio as { durationMs: number }).durationMs;
      // All of sentence 0 played, and half of sentence 1: its words up to the middle of its text.
      const playedMs = durationMs(sentences(stream.seen)[0]) + durationMs(second) / 2;

      const res = await h.fetch(`/v1/sessions/${turn.sessionId}/cancel`, { key: writer, json: { playedMs } });
      expect(await res.json()).toEqual({ cancelled: true });
      const heardText = `${SENTENCES[0]} O frete chega em`;
      const events = await stream.rest();
      expect(events.at(-2)).toMatchObject({ event: 'end', data: { status: 'interrupted', heardText, playedMs } });
      expect(sentences(events).map((e) => e.data.index)).toEqual([0, 1]);
      // The session remembers only what was heard.
      const messages = (await (await h.fetch(`/v1/sessions/${turn.sessionId}/messages`, { key: reader })).json()) as { messages: { role: string; content: string }[] };
      expect(messages.messages.map((m) => [m.role, m.content])).toEqual([
        ['user', QUESTION],
        ['assistant', heardText],
      ]);
    } finally {
      held.restore();
    }
  });

  it('answers cancelled false on a session with nothing in flight', async () => {
    const sessionId = await newSession();
    const idle = await h.fetch(`/v1/sessions/${sessionId}/cancel`, { key: writer, json: { playedMs: 1200 } });
    expect(idle.status).toBe(200);
    expect(await idle.json()).toEqual({ cancelled: false });

    const accepted = await submit({ sessionId, text: 'Bom dia.' });
    await h.fetch(`${accepted.links.wait ?? ''}?timeoutMs=20000`, { key: reader });
    expect(await (await h.fetch(`/v1/sessions/${sessionId}/cancel`, { key: writer, json: {} })).json()).toEqual({ cancelled: false });
    const after = (await (await h.fetch(`/v1/turns/${accepted.turnId}`, { key: reader })).json()) as { status: string };
    expect(after.status).toBe('completed');
  });

  it('refuses an unknown session, a bad playedMs or session id, no key and a key without turns:write', async () => {
    const sessionId = await newSession();
    const path = `/v1/sessions/${sessionId}/cancel`;
    await expectError(await h.fetch(`/v1/sessions/${newSessionId()}/cancel`, { key: writer, method: 'POST' }), 404, 'session_not_found');
    for (const body of [{ playedMs: -1 }, { playedMs: 'lots' }, { playedMs: 1, extra: true }]) {
      await expectError(await h.fetch(path, { key: writer, json: body }), 400, 'invalid_input');
    }
    await expectError(await h.fetch('/v1/sessions/not-a-session/cancel', { key: writer, method: 'POST' }), 400, 'invalid_input');
    await expectError(await h.fetch(path, { method: 'POST' }), 401, 'unauthorized');
    await expectError(await h.fetch(path, { key: reader, method: 'POST' }), 403, 'missing_scope');
  });
});

describe('a browser-style client', () => {
  it('reads the stream with fetch and a ReadableStream reader, and after a dropped connection resumes with Last-Event-ID', async () => {
    const held = holdSentences(LAST_SENTENCE_WORD);
    try {
      const accepted = await submit({ sessionId: await newSession(), text: QUESTION });
      const path = accepted.links.events ?? '';

      // First connection: drops after the first sentence, as a phone changing networks would.
      const dropped = new AbortController();
      const first = await openEvents(path, { signal: dropped.signal });
      await first.until((e) => e.event === 'sentence', 'a sentence');
      const lastEventId = first.seen.filter((e) => e.id !== undefined).at(-1)?.id ?? '';
      dropped.abort();

      // Second connection: the browser sends the last id it saw and gets the rest, once — nothing lost
      // between that id and where the server's reading of the log had got to when the first one dropped.
      const second = await openEvents(path, { lastEventId });
      expect(await second.next()).toMatchObject({ event: 'turn' });
      held.release(LAST_SENTENCE_WORD);
      const rest = (await second.rest()).slice(1);

      const joined = [...first.seen.filter((e) => e.id !== undefined), ...rest.filter((e) => e.id !== undefined)];
      const ids = joined.map((e) => e.id ?? '');
      for (let i = 1; i < ids.length; i += 1) expect(compareStreamIds(ids[i] ?? '', ids[i - 1] ?? '')).toBeGreaterThan(0);
      expect(sentences(joined).map((e) => e.data.index)).toEqual([0, 1, 2]);
      expect(rest.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
      // Together the two connections got exactly what one unbroken read gets.
      const whole = await (await openEvents(path)).rest();
      expect(withIds(joined)).toEqual(withIds(whole));
    } finally {
      held.restore();
    }
  });
});
