// Access per API key on real Redis and the test database: keys bound to a user or a tenant see
// only their own sessions, turns, messages, audio and events (404 for others', word for word as
// for an unknown id); per-key quotas answer 429 with retry-after, counted in Redis across API
// instances; GET /v1/stages says which stages have live workers and what they serve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { startApiProcess } from '../../src/producers/http/api-process.js';
import { quietLogger } from '../support/pipeline.js';
import { expectError, HOST, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let operator: string;

beforeAll(async () => {
  h = await startApiHarness();
  h.startWorkers();
  operator = await h.key('turns:read', 'turns:write');
});
afterAll(() => h.close());

const READ_WRITE = ['turns:read', 'turns:write'] as const;

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function createSession(key: string, userId: string, metadata?: Record<string, unknown>): Promise<string> {
  const session = await json<{ sessionId: string }>(await h.fetch('/v1/sessions', { key, json: { userId, ...(metadata ? { metadata } : {}) } }), 201);
  return session.sessionId;
}

/** A completed text turn in the session. */
async function completedTurn(key: string, sessionId: string): Promise<string> {
  const { turnId } = await json<{ turnId: string }>(await h.fetch('/v1/turns', { key, json: { sessionId, text: 'Olá!' } }), 202);
  const turn = await json<{ status: string }>(await h.fetch(`/v1/turns/${turnId}/wait?timeoutMs=20000`, { key }), 200);
  expect(turn.status).toBe('completed');
  return turnId;
}

/** Every read or write of a session and of a turn a key may try. */
function sessionRequests(sessionId: string): [string, string, unknown?][] {
  return [
    ['GET', `/v1/sessions/${sessionId}`],
    ['GET', `/v1/sessions/${sessionId}/messages`],
    ['GET', `/v1/sessions/${sessionId}/statistics`],
    ['POST', `/v1/sessions/${sessionId}/cancel`, {}],
    ['POST', '/v1/turns', { sessionId, text: 'de quem é isto?' }],
  ];
}
function turnRequests(turnId: string): [string, string][] {
  return [
    ['GET', `/v1/turns/${turnId}`],
    ['GET', `/v1/turns/${turnId}/wait?timeoutMs=0`],
    ['GET', `/v1/turns/${turnId}/audio`],
    ['GET', `/v1/turns/${turnId}/audio/0`],
    ['GET', `/v1/turns/${turnId}/events`],
  ];
}

/** The key is answered 404 for every request on someone else's session and turn, exactly as for unknown ids. */
async function expectHidden(key: string, sessionId: string, turnId: string): Promise<void> {
  const unknownSession = newSessionId();
  const unknownTurn = newTurnId();
  const cases: [string, string, unknown, string, string][] = [
    ...sessionRequests(sessionId).map(([method, path, body]): [string, string, unknown, string, string] => [method, path, body, 'session_not_found', sessionId]),
    ...turnRequests(turnId).map(([method, path]): [string, string, unknown, string, string] => [method, path, undefined, 'turn_not_found', turnId]),
  ];
  for (const [method, path, body, code, id] of cases) {
    const hidden = await expectError(await h.fetch(path, { method, key, ...(body !== undefined ? { json: body } : {}) }), 404, code);
    const unknownId = code === 'session_not_found' ? unknownSession : unknownTurn;
    const unknownPath = path.replace(id, unknownId);
    const unknownBody = body === undefined ? undefined : JSON.parse(JSON.stringify(body).replace(id, unknownId)) as unknown;
    const unknown = await expectError(await h.fetch(unknownPath, { method, key, ...(unknownBody !== undefined ? { json: unknownBody } : {}) }), 404, code);
    expect(hidden.message.replace(id, '<id>'), `${method} ${path}`).toBe(unknown.message.replace(unknownId, '<id>'));
  }
}

describe('keys bound to a user', () => {
  it('see only their user’s sessions, turns, messages, audio and events: 404 for another user’s, as if unknown', async () => {
    const ana = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { userId: 'ana' } })).key;
    const bia = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { userId: 'bia' } })).key;
    const anaSession = await createSession(ana, 'ana');
    const biaSession = await createSession(operator, 'bia'); // an operator key creates for anyone
    const anaTurn = await completedTurn(ana, anaSession);
    const biaTurn = await completedTurn(bia, biaSession);

    await expectHidden(ana, biaSession, biaTurn);
    await expectHidden(bia, anaSession, anaTurn);

    // Its own: everything answers.
    for (const [method, path] of [...sessionRequests(anaSession).slice(0, 3), ...turnRequests(anaTurn)]) {
      expect((await h.fetch(path, { method, key: ana })).status, path).toBe(200);
    }
    const events = await (await h.fetch(`/v1/turns/${anaTurn}/events`, { key: ana })).text();
    expect(events).toContain('event: done');
    // The operator key sees both users'.
    for (const path of [`/v1/sessions/${anaSession}`, `/v1/sessions/${biaSession}/messages`, `/v1/turns/${anaTurn}`, `/v1/turns/${biaTurn}/audio`]) {
      expect((await h.fetch(path, { key: operator })).status, path).toBe(200);
    }
  });

  it('create sessions for their own user only (403 user_not_allowed)', async () => {
    const ana = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { userId: 'ana' } })).key;
    const body = await expectError(await h.fetch('/v1/sessions', { key: ana, json: { userId: 'bia' } }), 403, 'user_not_allowed');
    expect(body.message).toContain('one user');
  });
});

describe('keys bound to a tenant', () => {
  it('stamp their sessions with metadata.tenant and see only their tenant’s sessions and turns', async () => {
    const acme = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { tenant: 'acme' } })).key;
    const globex = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { tenant: 'globex' } })).key;
    const created = await json<{ sessionId: string; metadata: Record<string, unknown> }>(
      await h.fetch('/v1/sessions', { key: acme, json: { userId: 'carla', metadata: { device: 'kiosk' } } }),
      201,
    );
    expect(created.metadata).toEqual({ device: 'kiosk', tenant: 'acme' });
    // Many users, one tenant: another user's session of the same tenant is visible.
    const dora = await createSession(acme, 'dora', { tenant: 'acme' });
    expect((await h.fetch(`/v1/sessions/${dora}`, { key: acme })).status).toBe(200);
    await expectError(await h.fetch('/v1/sessions', { key: acme, json: { userId: 'eva', metadata: { tenant: 'globex' } } }), 403, 'tenant_not_allowed');

    const acmeTurn = await completedTurn(acme, created.sessionId);
    await expectHidden(globex, created.sessionId, acmeTurn);
    // A session without a tenant (an operator's) is no tenant's.
    const untenanted = await createSession(operator, 'carla');
    const operatorTurn = await completedTurn(operator, untenanted);
    await expectHidden(acme, untenanted, operatorTurn);
  });

  it('bound to a user and a tenant: both must match', async () => {
    const key = (await h.api.keys.create({ scopes: [...READ_WRITE], binding: { userId: 'fabi', tenant: 'acme' } })).key;
    const own = await createSession(key, 'fabi');
    expect((await h.fetch(`/v1/sessions/${own}`, { key })).status).toBe(200);
    const sameUserOtherTenant = await createSession(operator, 'fabi', { tenant: 'globex' });
    await expectError(await h.fetch(`/v1/sessions/${sameUserOtherTenant}`, { key }), 404, 'session_not_found');
    const sameTenantOtherUser = await createSession(operator, 'gil', { tenant: 'acme' });
    await expectError(await h.fetch(`/v1/sessions/${sameTenantOtherUser}`, { key }), 404, 'session_not_found');
  });
});

describe('quotas', () => {
  it('requests per minute: 429 rate_limited with retry-after, counted across API instances; other keys unaffected', async () => {
    const { key } = await h.api.keys.create({ scopes: ['turns:read'], quota: { requestsPerMinute: 3 } });
    const second = await startApiProcess({ config: h.pipeline.config, port: 0, host: '127.0.0.1', log: quietLogger() });
    try {
      expect((await h.fetch('/v1/stages', { key })).status).toBe(200);
      expect((await fetch(`${second.url}/v1/stages`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect((await h.fetch('/v1/stages', { key })).status).toBe(200);
      for (const url of [h.url, second.url]) {
        const refused = await fetch(`${url}/v1/stages`, { headers: { authorization: `Bearer ${key}` } });
        const retryAfter = Number(refused.headers.get('retry-after'));
        const body = await expectError(refused, 429, 'rate_limited');
        expect(body.message).toContain('3 requests per minute');
        expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`).toBe(true);
      }
      expect((await h.fetch('/v1/stages', { key: operator })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('turns in flight: 429 too_many_turns with retry-after until a turn ends; a resubmitted turn is not counted twice', async () => {
    const { key } = await h.api.keys.create({ scopes: [...READ_WRITE], quota: { maxTurnsInFlight: 1 } });
    const sessionId = await createSession(key, 'hugo');
    // A turn whose submit fails (unknown session) takes no slot.
    await expectError(await h.fetch('/v1/turns', { key, json: { sessionId: newSessionId(), text: 'oi' } }), 404, 'session_not_found');
    h.pipeline.llm.script.latencyMs = 30_000;
    try {
      const first = await json<{ turnId: string }>(await h.fetch('/v1/turns', { key, json: { sessionId, text: 'devagar' } }), 202);
      const refused = await h.fetch('/v1/turns', { key, json: { sessionId, text: 'outra' } });
      expect(refused.headers.get('retry-after')).toBe('1');
      await expectError(refused, 429, 'too_many_turns');
      // The same turn again (an idempotent retry) is the turn already counted.
      const again = await json<{ turnId: string }>(await h.fetch('/v1/turns', { key, json: { sessionId, text: 'devagar', turnId: first.turnId } }), 202);
      expect(again.turnId).toBe(first.turnId);
      // Another key has its own count.
      expect((await h.fetch('/v1/turns', { key: operator, json: { sessionId, text: 'operador' } })).status).toBe(202);
      // Barge-in ends the turns in flight (interrupted): the slot frees.
      expect(await json<{ cancelled: boolean }>(await h.fetch(`/v1/sessions/${sessionId}/cancel`, { key, json: {} }), 200)).toEqual({ cancelled: true });
    } finally {
      h.pipeline.llm.script.latencyMs = 0;
    }
    const next = await json<{ turnId: string }>(await h.fetch('/v1/turns', { key, json: { sessionId, text: 'agora sim' } }), 202);
    const done = await json<{ status: string }>(await h.fetch(`/v1/turns/${next.turnId}/wait?timeoutMs=20000`, { key }), 200);
    expect(done.status).toBe('completed');
    // Completed: the slot frees again.
    expect((await h.fetch('/v1/turns', { key, json: { sessionId, text: 'mais uma' } })).status).toBe(202);
  });
});

describe('GET /v1/stages', () => {
  it('tells a turns:read key which stages have live workers, on which hosts, and the voices and languages they serve', async () => {
    const body = await json<{ stages: Record<string, unknown>[]; offerSource: string }>(await h.fetch('/v1/stages', { key: await h.key('turns:read') }), 200);
    expect(body.offerSource).toBe('api-config');
    expect(body.stages.map((s) => s.stage)).toEqual(['stt', 'llm', 'tts']);
    for (const stage of body.stages) {
      expect(stage).toMatchObject({ live: true, workers: 1, hosts: [HOST], provider: 'fake', languages: ['pt-BR'], defaultLanguage: 'pt-BR' });
    }
    expect(body.stages[2]).toMatchObject({ defaultVoice: 'pf_dora', voices: ['pf_dora'] });
    await expectError(await h.fetch('/v1/stages', { key: await h.key('metrics:read') }), 403, 'missing_scope');
    await expectError(await h.fetch('/v1/stages'), 401, 'unauthorized');
  });

  it('lists Kokoro’s voices when the TTS is Kokoro or espeak-ng', async () => {
    const api = await startApiProcess({ config: { ...h.pipeline.config, VOXQ_TTS: 'kokoro' }, port: 0, host: '127.0.0.1', log: quietLogger() });
    try {
      const res = await fetch(`${api.url}/v1/stages`, { headers: { authorization: `Bearer ${operator}` } });
      const tts = (await json<{ stages: { stage: string; provider: string; voices: string[] }[] }>(res, 200)).stages[2];
      expect(tts?.provider).toBe('kokoro');
      expect(tts?.voices[0]).toBe('pf_dora');
      expect(tts?.voices).toEqual(expect.arrayContaining(['pm_alex', 'pm_santa', 'af_heart']));
    } finally {
      await api.close();
    }
  });

  it('says a stage without workers is not live (last: it stops the workers)', async () => {
    await h.worker?.close();
    h.worker = undefined;
    await expect
      .poll(async () => (await json<{ stages: { live: boolean; workers: number }[] }>(await h.fetch('/v1/stages', { key: operator }), 200)).stages)
      .toEqual([expect.objectContaining({ live: false, workers: 0 }), expect.objectContaining({ live: false, workers: 0 }), expect.objectContaining({ live: false, workers: 0 })]);
  });
});
