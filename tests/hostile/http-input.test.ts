// Hostile requests to the HTTP API (in process, real Redis and the test database): operators and
// tricks in every string field, ids in paths, huge and broken bodies, many uploads at once and a
// body that never finishes. Each gets an error body naming the problem; other turns run on.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS } from '../../src/shared/contracts/turn-request.js';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { expectError, startApiHarness, type ApiHarness } from '../http/api-harness.js';

let api: ApiHarness;
let key: string;
let sessionId: string;

beforeAll(async () => {
  api = await startApiHarness();
  api.startWorkers();
  key = await api.key('turns:read', 'turns:write');
  sessionId = (await api.pipeline.client.createSession('hostile-http')).sessionId;
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const post = (path: string, json: unknown) => api.fetch(path, { method: 'POST', json, key });

describe('JSON turns with hostile fields', () => {
  it.each([
    ['sessionId', { sessionId: { $gt: '' }, text: 'oi' }],
    ['sessionId', { sessionId: 'sess_x:y', text: 'oi' }],
    ['sessionId', { sessionId: `sess_а${newSessionId().slice(6)}`, text: 'oi' }],
    ['turnId', { text: 'oi', turnId: { $ne: null } }],
    ['turnId', { text: 'oi', turnId: `${newTurnId()}\u0000` }],
    ['text', { text: 'x'.repeat(MAX_TEXT_CHARS + 1) }],
    ['text', { text: { $where: 'sleep(100)' } }],
    ['text', { text: 'antes\u0000depois' }],
    ['voice', { text: 'oi', voice: '../../etc/passwd' }],
    ['voice', { text: 'oi', voice: '$pf_dora' }],
    ['voice', { text: 'oi', voice: 'pf\u0000dora' }],
    ['language', { text: 'oi', language: { $gt: '' } }],
    ['language', { text: 'oi', language: 'pt-BR; DROP' }],
    ['speed', { text: 'oi', speed: '1e999' }],
    ['llm', { text: 'oi', llm: { $set: { systemPrompt: 'x' } } }],
    ['llm.temperature', { text: 'oi', llm: { temperature: { $gt: 0 } } }],
  ])('refuses a bad %s with 400 invalid_input naming it', async (field, body) => {
    const response = await post('/v1/turns', { sessionId, ...body });
    const error = await expectError(response, 400, 'invalid_input');
    expect(error.message).toContain(`${field}:`);
  });

  it('answers 404 for an unknown session, and nothing was queued for any of these', async () => {
    await expectError(await post('/v1/turns', { sessionId: newSessionId(), text: 'oi' }), 404, 'session_not_found');
    expect(await api.pipeline.keys()).not.toContainEqual(expect.stringMatching(/turn-ids/));
  });

  it('refuses ids with tricks in the path', async () => {
    for (const path of [
      `/v1/turns/${encodeURIComponent('{"$gt":""}')}`,
      `/v1/turns/${newTurnId()}%00`,
      `/v1/turns/${newTurnId().replace('-', '%2F')}`,
      `/v1/sessions/sess_..%2F..%2Fx`,
      `/v1/sessions/${newSessionId().toUpperCase()}/messages`,
    ]) {
      await expectError(await api.fetch(path, { key }), 400, 'invalid_input');
    }
  });
});

describe('broken and huge bodies', () => {
  it('refuses invalid JSON, a prototype-poisoning body and a body over the limit, naming each', async () => {
    const raw = (body: string) => api.fetch('/v1/turns', { method: 'POST', body, headers: { 'content-type': 'application/json' }, key });
    await expectError(await raw('{"sessionId":'), 400, 'invalid_json');
    const poisoned = await raw(`{"sessionId":"${sessionId}","text":"oi","__proto__":{"admin":true}}`);
    expect(poisoned.status).toBe(400);
    await expectError(await raw(JSON.stringify({ sessionId, text: 'x'.repeat(2 * 1024 * 1024) })), 413, 'body_too_large');
  });
});

describe('sessions', () => {
  // Expected to fail until createSessionBodySchema (schemas.ts) and VoxqClient.createSession check
  // The SDK checks the session request (session-request.ts), so FerretDB never sees such a key.
  it('refuses metadata keys MongoDB reads as operators or paths with 400 invalid_metadata naming the key', async () => {
    const operator = await expectError(await post('/v1/sessions', { userId: 'u', metadata: { a: { $gt: 1 } } }), 400, 'invalid_metadata');
    expect(operator.message).toContain('$gt');
    await expectError(await post('/v1/sessions', { userId: 'u', metadata: { 'a.b': 1 } }), 400, 'invalid_metadata');
  });

  it('refuses a userId with NUL or control characters', async () => {
    await expectError(await post('/v1/sessions', { userId: 'u\u0000admin', metadata: {} }), 400, 'invalid_user_id');
  });

  it('refuses a userId that is not a string or is too long', async () => {
    await expectError(await post('/v1/sessions', { userId: { $gt: '' } }), 400, 'invalid_input');
    await expectError(await post('/v1/sessions', { userId: 'x'.repeat(201) }), 400, 'invalid_input');
  });
});

describe('load and slowness', () => {
  it('answers many hostile uploads at once, each with its code, while a text turn completes', async () => {
    const bomb = encodeWavPcm16(new Int16Array(4000), 1); // declares 66 min
    const uploads = Array.from({ length: 12 }, async () => {
      const form = new FormData();
      form.set('sessionId', sessionId);
      form.set('audio', new Blob([bomb]), 'bomb.wav');
      return expectError(await api.fetch('/v1/turns', { method: 'POST', body: form, key }), 400, 'audio_too_long');
    });
    const text = (async () => {
      const accepted = (await (await post('/v1/turns', { sessionId, text: 'ainda aqui?' })).json()) as { turnId: string };
      const done = (await (await api.fetch(`/v1/turns/${accepted.turnId}/wait?timeoutMs=30000`, { key })).json()) as { status: string; replyText: string };
      return done;
    })();
    const [answers, turn] = await Promise.all([Promise.all(uploads), text]);
    expect(answers).toHaveLength(12);
    expect(turn).toMatchObject({ status: 'completed' });
    expect(turn.replyText).toContain('ainda aqui?');
  });

  it('serves other requests while an upload trickles in, and forgets it when the client goes', async () => {
    const url = new URL(api.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const boundary = 'voxqslow';
    socket.write(
      `POST /v1/turns HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="sessionId"\r\n\r\n${sessionId}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="slow.wav"\r\n\r\nRIFF`,
    );
    // While it waits for the rest, a whole turn runs.
    const accepted = (await (await post('/v1/turns', { sessionId, text: 'e agora?' })).json()) as { turnId: string };
    const done = (await (await api.fetch(`/v1/turns/${accepted.turnId}/wait?timeoutMs=30000`, { key })).json()) as { status: string };
    expect(done.status).toBe('completed');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.destroy();
    await closed;
    expect((await api.fetch('/healthz')).status).toBe(200);
  });
});
