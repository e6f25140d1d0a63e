// The HTTP API's contract on real Redis and the test database: every endpoint, its bad inputs
// (400/401/403/404/409/413/415 with a machine-readable code, never a stack trace), and keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDIO_BYTES } from '../../src/shared/audio/probe.js';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { makeWav } from '../support/wav.js';
import { expectError, HOST, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let writer: string;
let reader: string;

beforeAll(async () => {
  h = await startApiHarness();
  h.startWorkers();
  writer = await h.key('turns:read', 'turns:write');
  reader = await h.key('turns:read');
});
afterAll(() => h.close());

async function createSession(userId = 'ana'): Promise<string> {
  const res = await h.fetch('/v1/sessions', { key: writer, json: { userId, metadata: { device: 'kiosk' } } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { sessionId: string }).sessionId;
}

interface SchemaDoc {
  properties?: Record<string, unknown>;
  required?: string[];
}
type ContentDoc = Record<string, { schema: SchemaDoc }>;
interface OperationDoc {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: ContentDoc };
  responses?: Record<string, { content?: ContentDoc; 'x-events'?: Record<string, SchemaDoc> }>;
}

/** Every route the API serves as `METHOD /path/{param}` (HEAD left out), read off fastify's route tree. */
function servedRoutes(): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of h.api.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4; // each level indents by "│   " or "    "
    const path = (prefixes[depth - 1] ?? '') + (match[2] ?? '');
    prefixes[depth] = path;
    for (const method of (match[3] ?? '').split(', ')) {
      if (method !== '' && method !== 'HEAD') routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

function audioForm(fields: Record<string, string>, audio?: Uint8Array, fileField = 'audio'): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (audio) form.append(fileField, new Blob([audio], { type: 'audio/wav' }), 'pergunta.wav');
  return form;
}

describe('health and documents (open)', () => {
  it('/healthz answers without a key', async () => {
    const res = await h.fetch('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('/readyz says only ready to anyone; with a metrics:read key Redis, MongoDB and each stage’s live workers with their hosts', async () => {
    const open = await h.fetch('/readyz');
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ status: 'ready', ready: true });
    const turnsOnly = await h.fetch('/readyz', { key: reader });
    expect(await turnsOnly.json()).toEqual({ status: 'ready', ready: true });
    await expectError(await h.fetch('/readyz', { key: `${reader}x` }), 401, 'invalid_api_key');
    const res = await h.fetch('/readyz', { key: await h.key('metrics:read') });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'ready', ready: true, redis: { ok: true }, mongo: { ok: true } });
    for (const stage of ['stt', 'llm', 'tts']) {
      expect(body.stages).toHaveProperty(stage, expect.objectContaining({ healthy: true, workers: 1, hosts: [HOST] }));
    }
  });

  it('/openapi.json documents every endpoint the API serves, from the zod schemas', async () => {
    const res = await h.fetch('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, OperationDoc>> };
    expect(doc.openapi).toBe('3.1.0');
    // Every route fastify serves (the Bull Board UI aside) is documented, and nothing else is.
    const served = servedRoutes().filter((route) => !route.includes(' /admin/'));
    expect(served).toEqual(expect.arrayContaining(['POST /v1/sessions/{sessionId}/cancel', 'GET /v1/turns/{turnId}/audio/{index}', 'GET /v1/turns/{turnId}/events']));
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(served.sort());

    const submit = doc.paths['/v1/turns']?.post?.requestBody?.content;
    expect(submit?.['application/json']?.schema.required).toEqual(expect.arrayContaining(['sessionId', 'text']));
    expect(Object.keys(submit?.['application/json']?.schema.properties ?? {})).toContain('bargeIn');
    expect(Object.keys(submit?.['multipart/form-data']?.schema.properties ?? {})).toEqual(expect.arrayContaining(['audio', 'bargeIn']));
    const view = doc.paths['/v1/turns/{turnId}']?.get?.responses?.['200']?.content?.['application/json']?.schema;
    expect(view?.required).toContain('route');
    expect(view?.properties?.route).toMatchObject({ enum: ['stt-llm-tts', 'audio-llm-tts', 'text-llm-tts'] });
    expect((view?.properties?.status as { enum?: string[] } | undefined)?.enum).toContain('interrupted');
    const cancel = doc.paths['/v1/sessions/{sessionId}/cancel']?.post;
    expect(Object.keys(cancel?.requestBody?.content['application/json']?.schema.properties ?? {})).toEqual(['playedMs']);
    expect(cancel?.responses?.['200']?.content?.['application/json']?.schema.properties).toHaveProperty('cancelled');
    const events = doc.paths['/v1/turns/{turnId}/events']?.get;
    expect(events?.parameters?.map((p) => `${p.in} ${p.name}`)).toContain('header Last-Event-ID');
    expect(Object.keys(events?.responses?.['200']?.['x-events'] ?? {})).toEqual(['turn', 'accepted', 'stage', 'transcript', 'text', 'sentence', 'end', 'done']);
  });

  it('unknown routes are 404 not_found', async () => {
    await expectError(await h.fetch('/v1/nothing', { key: writer }), 404, 'not_found');
  });
});

describe('authentication and scopes', () => {
  const sessionId = newSessionId();
  const turnId = newTurnId();
  const protectedRoutes: [string, string][] = [
    ['POST', '/v1/sessions'],
    ['GET', `/v1/sessions/${sessionId}`],
    ['GET', `/v1/sessions/${sessionId}/messages`],
    ['GET', `/v1/sessions/${sessionId}/statistics`],
    ['POST', `/v1/sessions/${sessionId}/cancel`],
    ['POST', '/v1/turns'],
    ['GET', `/v1/turns/${turnId}`],
    ['GET', `/v1/turns/${turnId}/wait`],
    ['GET', `/v1/turns/${turnId}/audio`],
    ['GET', `/v1/turns/${turnId}/audio/0`],
    ['GET', `/v1/turns/${turnId}/events`],
    ['GET', '/metrics'],
  ];

  it('every protected endpoint answers 401 unauthorized without a key', async () => {
    for (const [method, path] of protectedRoutes) await expectError(await h.fetch(path, { method }), 401, 'unauthorized');
  });

  it('a malformed, unknown or non-bearer key is 401 invalid_api_key', async () => {
    for (const header of ['Bearer nope', `Bearer voxq_0123456789abcdef_${'A'.repeat(43)}`, 'Basic abc', `Bearer ${writer}x`]) {
      await expectError(await h.fetch('/v1/sessions/' + sessionId, { headers: { authorization: header } }), 401, 'invalid_api_key');
    }
  });

  it('a key without the route’s scope is 403 missing_scope, naming the scope', async () => {
    const metricsOnly = await h.key('metrics:read');
    const body = await expectError(await h.fetch('/v1/sessions', { key: reader, json: { userId: 'x' } }), 403, 'missing_scope');
    expect(body.message).toContain('turns:write');
    await expectError(await h.fetch('/v1/turns', { key: reader, json: { sessionId, text: 'oi' } }), 403, 'missing_scope');
    await expectError(await h.fetch(`/v1/turns/${turnId}`, { key: metricsOnly }), 403, 'missing_scope');
    await expectError(await h.fetch('/metrics', { key: writer }), 403, 'missing_scope');
  });

  it('a revoked key stops working at once', async () => {
    const { key, record } = await h.api.keys.create({ scopes: ['turns:read'] });
    expect((await h.fetch(`/v1/sessions/${sessionId}`, { key })).status).toBe(404);
    expect(await h.api.keys.revoke(record.keyId)).toBe(true);
    await expectError(await h.fetch(`/v1/sessions/${sessionId}`, { key }), 401, 'invalid_api_key');
  });
});

describe('sessions', () => {
  it('creates a session (201 + Location) and reads it back', async () => {
    const res = await h.fetch('/v1/sessions', { key: writer, json: { userId: 'bia', metadata: { lang: 'pt-BR' } } });
    expect(res.status).toBe(201);
    const session = (await res.json()) as { sessionId: string; userId: string; createdAt: string };
    expect(res.headers.get('location')).toBe(`/v1/sessions/${session.sessionId}`);
    expect(session).toMatchObject({ userId: 'bia', metadata: { lang: 'pt-BR' }, interactionCount: 0 });
    expect(new Date(session.createdAt).toISOString()).toBe(session.createdAt);
    const got = await h.fetch(`/v1/sessions/${session.sessionId}`, { key: reader });
    expect(await got.json()).toEqual(session);
  });

  it('rejects bad bodies with 400 invalid_input naming the field', async () => {
    for (const body of [{}, { userId: '' }, { userId: 'x', extra: 1 }, { userId: 'x', metadata: [1] }, { userId: 42 }, []]) {
      await expectError(await h.fetch('/v1/sessions', { key: writer, json: body }), 400, 'invalid_input');
    }
    const body = await expectError(await h.fetch('/v1/sessions', { key: writer, json: { userId: 'x', metadata: 'no' } }), 400, 'invalid_input');
    expect(body.message).toContain('metadata');
  });

  it('malformed JSON is 400 invalid_json; other media types 415; oversized bodies 413', async () => {
    const post = (body: string, type: string) => h.fetch('/v1/sessions', { method: 'POST', key: writer, body, headers: { 'content-type': type } });
    await expectError(await post('{"userId":', 'application/json'), 400, 'invalid_json');
    await expectError(await post('userId=x', 'text/plain'), 415, 'unsupported_media_type');
    await expectError(await h.fetch('/v1/sessions', { method: 'POST', key: writer, body: audioForm({ userId: 'x' }) }), 415, 'unsupported_media_type');
    const huge = JSON.stringify({ userId: 'x', metadata: { blob: 'x'.repeat(1_100_000) } });
    await expectError(await post(huge, 'application/json'), 413, 'body_too_large');
  });

  it('unknown sessions are 404 session_not_found; malformed ids 400; bad limits 400', async () => {
    const unknown = newSessionId();
    for (const path of [`/v1/sessions/${unknown}`, `/v1/sessions/${unknown}/messages`, `/v1/sessions/${unknown}/statistics`]) {
      await expectError(await h.fetch(path, { key: reader }), 404, 'session_not_found');
    }
    await expectError(await h.fetch('/v1/sessions/sess_nope', { key: reader }), 400, 'invalid_input');
    const sessionId = await createSession();
    for (const limit of ['0', 'abc', '100000']) {
      await expectError(await h.fetch(`/v1/sessions/${sessionId}/messages?limit=${limit}`, { key: reader }), 400, 'invalid_input');
    }
  });
});

describe('turns', () => {
  it('a text turn: 202 with its id at once, then wait, get, audio, messages and statistics', async () => {
    const sessionId = await createSession();
    const res = await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'Que horas são?', voice: 'pf_dora', llm: { temperature: 0.2 } } });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { turnId: string; status: string; links: { wait: string; audio: string } };
    expect(accepted).toMatchObject({ sessionId, status: 'queued' });
    expect(res.headers.get('location')).toBe(`/v1/turns/${accepted.turnId}`);

    const waited = await h.fetch(`${accepted.links.wait}?timeoutMs=20000`, { key: reader });
    const turn = (await waited.json()) as Record<string, unknown> & { timing: Record<string, unknown>; replyAudio: { url: string } };
    expect(turn).toMatchObject({ turnId: accepted.turnId, status: 'completed', route: 'text-llm-tts', stagesDone: ['llm', 'tts'], input: { kind: 'text' } });
    expect(turn.replyText).toContain('Que horas são?');
    expect(turn.timing).toMatchObject({ llm: { attempts: 1 }, tts: { attempts: 1 } });
    expect(turn.timing.totalMs).toBeGreaterThanOrEqual(0);

    expect(await (await h.fetch(`/v1/turns/${accepted.turnId}`, { key: reader })).json()).toEqual(turn);

    const audio = await h.fetch(turn.replyAudio.url, { key: reader });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toMatch(/^audio\/wav/);
    const bytes = new Uint8Array(await audio.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');

    const messages = (await (await h.fetch(`/v1/sessions/${sessionId}/messages?limit=10`, { key: reader })).json()) as { messages: { role: string; content: string }[] };
    expect(messages.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages.messages[0]?.content).toBe('Que horas são?');
    const stats = await (await h.fetch(`/v1/sessions/${sessionId}/statistics`, { key: reader })).json();
    expect(stats).toMatchObject({ sessionId, messageCount: 2, userMessageCount: 1, assistantMessageCount: 1 });
  });

  it('an audio turn as multipart: 202, then completed with the transcription', async () => {
    const sessionId = await createSession();
    const res = await h.fetch('/v1/turns', { method: 'POST', key: writer, body: audioForm({ sessionId, speed: '1.2', llm: '{"maxTokens":100}' }, makeWav({ durationMs: 800 })) });
    const accepted = (await res.json()) as { turnId: string };
    expect(res.status, JSON.stringify(accepted)).toBe(202);
    const turn = (await (await h.fetch(`/v1/turns/${accepted.turnId}/wait?timeoutMs=20000`, { key: reader })).json()) as Record<string, unknown>;
    expect(turn).toMatchObject({ status: 'completed', route: 'stt-llm-tts', stagesDone: ['stt', 'llm', 'tts'], input: { kind: 'audio', mimeType: 'audio/wav' } });
    expect(typeof turn.transcription).toBe('string');
  });

  it('the same turnId submitted twice is one turn', async () => {
    const sessionId = await createSession();
    const turnId = newTurnId();
    const first = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'um', turnId } })).json()) as { turnId: string };
    const second = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'um', turnId } })).json()) as { turnId: string };
    expect(first.turnId).toBe(turnId);
    expect(second.turnId).toBe(turnId);
    await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=20000`, { key: reader });
    const stats = (await (await h.fetch(`/v1/sessions/${sessionId}/statistics`, { key: reader })).json()) as { messageCount: number };
    expect(stats.messageCount).toBe(2);
  });

  it('while a turn runs: audio is 409 turn_not_completed and a short wait answers with its state', async () => {
    const sessionId = await createSession();
    h.pipeline.llm.script.latencyMs = 1500;
    try {
      const { turnId } = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'devagar' } })).json()) as { turnId: string };
      await expectError(await h.fetch(`/v1/turns/${turnId}/audio`, { key: reader }), 409, 'turn_not_completed');
      const early = (await (await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=100`, { key: reader })).json()) as { status: string };
      expect(['queued', 'running']).toContain(early.status);
      const done = (await (await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=20000`, { key: reader })).json()) as { status: string };
      expect(done.status).toBe('completed');
    } finally {
      h.pipeline.llm.script.latencyMs = 0;
    }
  });

  it('a failed turn waits to status failed with its error code', async () => {
    const sessionId = await createSession();
    h.pipeline.llm.script.failNext({ kind: 'bad_request' });
    const { turnId } = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: 'falha' } })).json()) as { turnId: string };
    const turn = (await (await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=20000`, { key: reader })).json()) as Record<string, unknown>;
    expect(turn).toMatchObject({ status: 'failed', error: { stage: 'llm', code: 'provider_bad_request' } });
    await expectError(await h.fetch(`/v1/turns/${turnId}/audio`, { key: reader }), 409, 'turn_not_completed');
  });

  it('rejects bad JSON turns: 400 with the field, 404 for an unknown session, 415 for other media', async () => {
    const sessionId = await createSession();
    const bad = [{ sessionId }, { sessionId, text: '' }, { sessionId, text: '   ' }, { text: 'oi' }, { sessionId, text: 'oi', speed: 9 }, { sessionId, text: 'oi', audio: 'AAAA' }, { sessionId, text: 'oi', llm: { temperature: 'hot' } }, { sessionId, text: 'x'.repeat(10_001) }];
    for (const body of bad) await expectError(await h.fetch('/v1/turns', { key: writer, json: body }), 400, 'invalid_input');
    await expectError(await h.fetch('/v1/turns', { key: writer, json: { sessionId: newSessionId(), text: 'oi' } }), 404, 'session_not_found');
    await expectError(await h.fetch('/v1/turns', { method: 'POST', key: writer, body: 'oi', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    await expectError(await h.fetch('/v1/turns', { method: 'POST', key: writer, body: new Uint8Array([1, 2]), headers: { 'content-type': 'audio/wav' } }), 415, 'unsupported_media_type');
    await expectError(await h.fetch('/v1/turns', { method: 'POST', key: writer }), 400, 'invalid_input');
  });

  it('rejects bad multipart turns: no audio, wrong file field, not audio, empty, unknown field, 413 over 25 MB', async () => {
    const sessionId = await createSession();
    const wav = makeWav({ durationMs: 300 });
    const post = (form: FormData) => h.fetch('/v1/turns', { method: 'POST', key: writer, body: form });
    await expectError(await post(audioForm({ sessionId })), 400, 'audio_missing');
    await expectError(await post(audioForm({ sessionId }, wav, 'file')), 400, 'invalid_input');
    await expectError(await post(audioForm({ sessionId }, new TextEncoder().encode('not audio at all, just text'))), 400, 'audio_not_audio');
    await expectError(await post(audioForm({ sessionId }, new Uint8Array())), 400, 'audio_empty');
    await expectError(await post(audioForm({ sessionId, colour: 'blue' }, wav)), 400, 'invalid_input');
    await expectError(await post(audioForm({ sessionId, llm: '{oops' }, wav)), 400, 'invalid_input');
    await expectError(await post(audioForm({ sessionId: 'sess_x' }, wav)), 400, 'invalid_input');
    await expectError(await post(audioForm({ sessionId }, new Uint8Array(MAX_AUDIO_BYTES + 1024))), 413, 'audio_too_large');
  });

  it('unknown turns are 404 turn_not_found; malformed ids and wait times 400', async () => {
    const unknown = newTurnId();
    for (const path of [`/v1/turns/${unknown}`, `/v1/turns/${unknown}/wait?timeoutMs=0`, `/v1/turns/${unknown}/audio`]) {
      await expectError(await h.fetch(path, { key: reader }), 404, 'turn_not_found');
    }
    await expectError(await h.fetch('/v1/turns/turn_123', { key: reader }), 400, 'invalid_input');
    for (const q of ['timeoutMs=abc', 'timeoutMs=-1', 'timeoutMs=600000', 'other=1']) {
      await expectError(await h.fetch(`/v1/turns/${unknown}/wait?${q}`, { key: reader }), 400, 'invalid_input');
    }
  });

  it('measures submit and get latency (logged for the report)', async () => {
    const sessionId = await createSession();
    const submit: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      const { turnId } = (await (await h.fetch('/v1/turns', { key: writer, json: { sessionId, text: `medida ${i}` } })).json()) as { turnId: string };
      submit.push(performance.now() - t);
      t = performance.now();
      expect((await h.fetch(`/v1/turns/${turnId}`, { key: reader })).status).toBe(200);
      get.push(performance.now() - t);
    }
    const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]?.toFixed(1);
    console.log(`api latency ms: submit p50 ${p(submit, 0.5)} p95 ${p(submit, 0.95)}; get p50 ${p(get, 0.5)} p95 ${p(get, 0.95)}`);
    await h.fetch(`/v1/sessions/${sessionId}/statistics`, { key: reader });
  });
});

describe('readiness without workers', () => {
  it('/readyz is 503 when a stage has no live worker (details with metrics:read, ready: false to anyone)', async () => {
    await h.worker?.close();
    h.worker = undefined;
    const metrics = await h.key('metrics:read');
    await expect
      .poll(async () => {
        const res = await h.fetch('/readyz', { key: metrics });
        return { status: res.status, body: (await res.json()) as { stages: { llm: { workers: number } } } };
      })
      .toMatchObject({ status: 503, body: { status: 'not_ready', ready: false, stages: { llm: { workers: 0, healthy: false } } } });
    const open = await h.fetch('/readyz');
    expect(open.status).toBe(503);
    expect(await open.json()).toEqual({ status: 'not_ready', ready: false });
  });
});

describe('with a speech-native LLM', () => {
  it('an audio turn shows the audio-llm-tts route', async () => {
    const sn = await startApiHarness({ env: { VOXQ_LLM: 'speech-native' }, llm: { acceptsAudio: true } });
    try {
      sn.startWorkers();
      const key = await sn.key('turns:read', 'turns:write');
      const created = await sn.fetch('/v1/sessions', { key, json: { userId: 'caio' } });
      const { sessionId } = (await created.json()) as { sessionId: string };
      const res = await sn.fetch('/v1/turns', { method: 'POST', key, body: audioForm({ sessionId }, makeWav({ durationMs: 800 })) });
      const accepted = (await res.json()) as { turnId: string };
      expect(res.status, JSON.stringify(accepted)).toBe(202);
      const turn = (await (await sn.fetch(`/v1/turns/${accepted.turnId}/wait?timeoutMs=20000`, { key })).json()) as Record<string, unknown>;
      expect(turn).toMatchObject({ status: 'completed', route: 'audio-llm-tts', input: { kind: 'audio' } });
      expect(await (await sn.fetch(`/v1/turns/${accepted.turnId}`, { key })).json()).toEqual(turn);
    } finally {
      await sn.close();
    }
  });
});
