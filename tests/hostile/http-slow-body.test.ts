// Slow clients against an API process whose requests must arrive whole within a second
// (VOXQ_API_REQUEST_TIMEOUT_MS): a body that stops partway, or drips a byte at a time, is
// answered 408 request_timeout and its connection closed, its upload slot given back; an event
// stream, whose request arrived at once, stays open past that limit and carries its turn to the
// end. The timeout is small so each cut comes quickly; nothing asserts on how long anything took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, startApiHarness, type ApiHarness } from '../http/api-harness.js';
import { makeWav } from '../support/wav.js';
import { multipartBody, RawHttp, requestHead, type RawResponse } from './support/raw-http.js';

const REQUEST_TIMEOUT_MS = 1000;

let api: ApiHarness;
let key: string;
let sessionId: string;
const wav = makeWav({ durationMs: 400 });
const open: RawHttp[] = [];

beforeAll(async () => {
  // One upload slot: an upload accepted after a cut proves the cut one gave its slot back.
  api = await startApiHarness({ env: { VOXQ_API_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), VOXQ_API_MAX_UPLOADS: '1' } });
  key = await api.key('turns:read', 'turns:write');
  sessionId = (await api.pipeline.client.createSession('slow-body')).sessionId;
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((raw) => raw.destroy()));
  await api?.close();
});

/** An upload whose head and first bytes of body are sent; the rest is up to the test. */
async function startUpload(): Promise<{ raw: RawHttp; body: Buffer }> {
  const raw = await RawHttp.open(api.url);
  open.push(raw);
  const { contentType, body } = multipartBody({ sessionId }, wav);
  raw.write(requestHead('POST', '/v1/turns', { authorization: `Bearer ${key}`, 'content-type': contentType, 'content-length': String(body.length) }));
  raw.write(body.subarray(0, 64));
  return { raw, body };
}

async function expectCutOff(raw: RawHttp): Promise<void> {
  const response: RawResponse = await raw.response();
  expect(response.status, response.body).toBe(408);
  const error = JSON.parse(response.body) as Record<string, unknown>;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'requestId']);
  expect(error.code).toBe('request_timeout');
  expect(error.message).toContain(`${REQUEST_TIMEOUT_MS} ms`);
  await raw.closed;
}

async function expectUploadAccepted(): Promise<void> {
  const form = new FormData();
  form.set('sessionId', sessionId);
  form.set('audio', new Blob([wav], { type: 'audio/wav' }), 'pergunta.wav');
  const response = await api.fetch('/v1/turns', { method: 'POST', body: form, key });
  expect(response.status, await response.clone().text()).toBe(202);
}

describe('slow bodies', () => {
  it('cuts off an upload that stops partway with 408 request_timeout, closes it, and frees its slot', async () => {
    const { raw } = await startUpload();
    await expectCutOff(raw);
    await expectUploadAccepted();
    expect((await api.fetch('/healthz')).status).toBe(200);
  });

  it('cuts off an upload dripped a byte at a time, which no idle timeout would catch', async () => {
    const { raw, body } = await startUpload();
    let sent = 64;
    const drip = setInterval(() => {
      if (sent < body.length - 1) raw.write(body.subarray(sent, (sent += 1)));
    }, 50);
    try {
      await expectCutOff(raw);
    } finally {
      clearInterval(drip);
    }
    await expectUploadAccepted();
  });

  it('cuts off headers that never end', async () => {
    const raw = await RawHttp.open(api.url);
    open.push(raw);
    raw.write(`POST /v1/turns HTTP/1.1\r\nHost: voxq.test\r\nAuthorization: Bearer ${key}\r\nX-Slow: `);
    await expectCutOff(raw);
  });
});

describe('event streams', () => {
  it('keep a stream open past the request timeout and carry its turn to the end', async () => {
    const accepted = await api.fetch('/v1/turns', { method: 'POST', json: { sessionId, text: 'ainda aí?' }, key });
    const { turnId } = (await accepted.json()) as { turnId: string };
    const response = await api.fetch(`/v1/turns/${turnId}/events`, { key });
    expect(response.status).toBe(200);
    const events = sseEvents(response);
    expect(await events.next()).toMatchObject({ value: { event: 'turn', data: { status: 'queued' } } });

    // A slow upload begun after the stream opened is cut off: the stream is now older than the limit.
    const { raw } = await startUpload();
    await expectCutOff(raw);

    api.startWorkers();
    const seen: { event: string; data: Record<string, unknown> }[] = [];
    for await (const event of events) seen.push(event);
    expect(seen.map((e) => e.event)).toContain('sentence');
    const done = seen.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data.status).toBe('completed');
    expect(String(done?.data.replyText)).toContain('ainda aí?');
    await expectError(await api.fetch('/v1/turns/not-a-turn/events', { key }), 400, 'invalid_input');
  });
});

/** Server-sent events off a fetch body, one per block ending in a blank line (comment lines skipped). */
async function* sseEvents(response: Response): AsyncGenerator<{ event: string; data: Record<string, unknown> }> {
  if (!response.body) throw new Error('no body');
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffer += decoder.decode(read.value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event && data) yield { event, data: JSON.parse(data) as Record<string, unknown> };
    }
  }
}
