// GET /v1/turns/:id/events on real Redis, the test database and the API process: a turn's
// progress as server-sent events, from the snapshot through each stage to `done`.
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTurnId } from '../../src/shared/contracts/ids.js';
import { startApiProcess } from '../../src/producers/http/api-process.js';
import { quietLogger } from '../support/pipeline.js';
import { makeWav } from '../support/wav.js';
import { expectError, startApiHarness, type ApiHarness } from './api-harness.js';

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a whole event stream (it ends after `done`); comment lines are skipped. */
async function readEvents(res: Response, limitMs = 20_000): Promise<SseEvent[]> {
  const text = await Promise.race([
    res.text(),
    delay(limitMs).then(() => {
      throw new Error(`the event stream did not end within ${limitMs} ms`);
    }),
  ]);
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

const stageEvents = (events: SseEvent[]) => events.filter((e) => e.event === 'stage').map((e) => `${String(e.data.stage)}:${String(e.data.status)}`);

let h: ApiHarness;
let writer: string;
let reader: string;
let sessionId: string;

beforeAll(async () => {
  h = await startApiHarness();
  writer = await h.key('turns:read', 'turns:write');
  reader = await h.key('turns:read');
  const res = await h.fetch('/v1/sessions', { key: writer, json: { userId: 'bia' } });
  sessionId = ((await res.json()) as { sessionId: string }).sessionId;
});
afterAll(() => h.close());

async function submit(body: Record<string, unknown> | FormData): Promise<{ turnId: string; links: Record<string, string> }> {
  const res =
    body instanceof FormData ? await h.fetch('/v1/turns', { key: writer, method: 'POST', body }) : await h.fetch('/v1/turns', { key: writer, json: body });
  expect(res.status).toBe(202);
  return (await res.json()) as { turnId: string; links: Record<string, string> };
}

describe('GET /v1/turns/:turnId/events', () => {
  it('streams a queued audio turn: the snapshot, each stage running then completed in order, then done', async () => {
    // No workers yet: the stream starts on a queued turn and sees every stage happen.
    const form = new FormData();
    form.append('sessionId', sessionId);
    form.append('audio', new Blob([makeWav({ durationMs: 400 })], { type: 'audio/wav' }), 'pergunta.wav');
    const accepted = await submit(form);
    expect(accepted.links.events).toBe(`/v1/turns/${accepted.turnId}/events`);

    const res = await h.fetch(accepted.links.events ?? '', { key: reader });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await delay(200); // the stream is open and listening before any stage runs
    h.startWorkers();
    const events = await readEvents(res);

    expect(events[0]).toMatchObject({ event: 'turn', data: { turnId: accepted.turnId, status: 'queued', stagesDone: [] } });
    expect(stageEvents(events)).toEqual(['stt:running', 'stt:completed', 'llm:running', 'llm:completed', 'tts:running', 'tts:completed']);
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data).toMatchObject({ turnId: accepted.turnId, status: 'completed', stagesDone: ['stt', 'llm', 'tts'] });
    expect(typeof done?.data.replyText).toBe('string');
    expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
  });

  it('answers a finished turn with its snapshot and done at once', async () => {
    const accepted = await submit({ sessionId, text: 'Que horas são?' });
    await h.fetch(`${accepted.links.wait}?timeoutMs=20000`, { key: reader });
    const events = await readEvents(await h.fetch(accepted.links.events ?? '', { key: reader }), 5000);
    expect(events.map((e) => e.event)).toEqual(['turn', 'done']);
    expect(events[0]?.data).toMatchObject({ status: 'completed', stagesDone: ['llm', 'tts'] });
  });

  it('reports a stage that fails for good and ends with the failed turn', async () => {
    h.pipeline.llm.script.failNext({ kind: 'bad_request' });
    const accepted = await submit({ sessionId, text: 'Isto vai falhar.' });
    const events = await readEvents(await h.fetch(accepted.links.events ?? '', { key: reader }));
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data).toMatchObject({ status: 'failed', error: { stage: 'llm', code: 'provider_bad_request' } });
    expect(stageEvents(events)).not.toContain('tts:running');
  });

  it('reports a stage that was already running when the client connected', async () => {
    h.worker ??= h.startWorkers();
    h.pipeline.llm.script.latencyMs = 1500;
    try {
      const accepted = await submit({ sessionId, text: 'Devagar, por favor.' });
      for (let i = 0; i < 100 && !(await h.api.progress.activity(accepted.turnId)).running.includes('llm'); i += 1) await delay(20);
      const events = await readEvents(await h.fetch(accepted.links.events ?? '', { key: reader }));
      expect(events[0]).toMatchObject({ event: 'turn', data: { turnId: accepted.turnId, stagesDone: [] } });
      expect(stageEvents(events)).toEqual(['llm:running', 'llm:completed', 'tts:running', 'tts:completed']);
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
    } finally {
      h.pipeline.llm.script.latencyMs = 0;
    }
  });

  it('shows a retry: the stage goes back to wait until the provider’s retry-after, then runs again', async () => {
    h.worker ??= h.startWorkers();
    // Each LLM attempt takes 500 ms, so the stream is open before the first one fails.
    h.pipeline.llm.script.latencyMs = 500;
    h.pipeline.llm.script.failNext({ kind: 'rate_limited', retryAfterMs: 400 });
    const accepted = await submit({ sessionId, text: 'Tente de novo.' });
    const events = await readEvents(await h.fetch(accepted.links.events ?? '', { key: reader })).finally(() => (h.pipeline.llm.script.latencyMs = 0));
    expect(stageEvents(events)).toEqual(['llm:running', 'llm:waiting', 'llm:running', 'llm:completed', 'tts:running', 'tts:completed']);
    const waiting = events.find((e) => e.event === 'stage' && e.data.status === 'waiting');
    expect(Date.parse(String(waiting?.data.until))).toBeGreaterThan(Date.now() - 10_000);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
  });

  it('refuses what other turn routes refuse: no key, a key without turns:read, a bad id, an unknown turn', async () => {
    const path = `/v1/turns/${newTurnId()}/events`;
    await expectError(await h.fetch(path), 401, 'unauthorized');
    await expectError(await h.fetch(path, { key: await h.key('metrics:read') }), 403, 'missing_scope');
    await expectError(await h.fetch('/v1/turns/not-a-turn/events', { key: reader }), 400, 'invalid_input');
    await expectError(await h.fetch(path, { key: reader }), 404, 'turn_not_found');
  });

  it('lets go of a client that leaves, and the API stays healthy', async () => {
    await h.worker?.close();
    h.worker = undefined;
    const accepted = await submit({ sessionId, text: 'Ninguém vai esperar por isto.' });
    const leaving = new AbortController();
    const res = await h.fetch(accepted.links.events ?? '', { key: reader, signal: leaving.signal });
    const reader1 = res.body?.getReader();
    const chunk = (await reader1?.read())?.value as Uint8Array | undefined;
    const first = new TextDecoder().decode(chunk);
    expect(first).toContain('event: turn');
    const progress = h.api.progress;
    expect(progress.watchedTurns).toBe(1);
    leaving.abort();
    for (let i = 0; i < 50 && progress.watchedTurns > 0; i += 1) await delay(20);
    expect(progress.watchedTurns).toBe(0);
    expect((await h.fetch('/healthz')).status).toBe(200);
  });

  it('ends with stalled, not silence, when the turn is unfinished and none of its jobs is left', async () => {
    // No workers (the previous test closed them); the turn's only job is then removed.
    const accepted = await submit({ sessionId, text: 'Este trabalho vai sumir.' });
    await h.pipeline.queues.get('llm').remove(`${accepted.turnId}.llm`);
    const events = await readEvents(await h.fetch(accepted.links.events ?? '', { key: reader }), 10_000);
    expect(events.map((e) => e.event)).toEqual(['turn', 'stalled']);
    expect(events[1]?.data).toMatchObject({ turnId: accepted.turnId, status: 'queued' });
    expect(String(events[1]?.data.message)).toMatch(/none of its stage jobs/);
  });

  it('ends its open streams when the API shuts down, instead of holding the shutdown', async () => {
    const second = await startApiProcess({ config: h.pipeline.config, port: 0, host: '127.0.0.1', log: quietLogger() });
    const key = (await second.keys.create({ scopes: ['turns:read', 'turns:write'], name: 'test' })).key;
    const accepted = await submit({ sessionId, text: 'Sem workers, sem fim.' }); // no workers: it never finishes
    const res = await fetch(`${second.url}${accepted.links.events ?? ''}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const text = res.text();
    const started = performance.now();
    await second.close();
    // Not a speed target: a stream left open would hold close() for the keep-alive timeout (~4 s here) or until its turn ends.
    expect(performance.now() - started).toBeLessThan(2500);
    const events = (await text).split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => b.split('\n')[0]);
    expect(events).toEqual(['event: turn']);
  });
});
