// DELETE /v1/sessions/{id}: a person's data removed through the API, idempotently; a key bound to
// another user cannot reach it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
  h.startWorkers();
});
afterAll(async () => {
  await h.close();
});

describe('DELETE /v1/sessions/{id}', () => {
  it("removes the session with its turns and messages, answers deleted:false the second time, and 404s another user's key", async () => {
    const key = await h.key('turns:read', 'turns:write');
    const created = (await (await h.fetch('/v1/sessions', { method: 'POST', key, json: { userId: 'ana' } })).json()) as { sessionId: string };
    const { sessionId } = created;
    const accepted = (await (await h.fetch('/v1/turns', { method: 'POST', key, json: { sessionId, text: 'apague meus dados' } })).json()) as { turnId: string };
    await h.fetch(`/v1/turns/${accepted.turnId}/wait?timeoutMs=20000`, { key });

    const other = (await h.api.keys.create({ scopes: ['turns:read', 'turns:write'], binding: { userId: 'bia' } })).key;
    expect((await h.fetch(`/v1/sessions/${sessionId}`, { method: 'DELETE', key: other })).status).toBe(404);
    expect((await h.fetch(`/v1/sessions/${sessionId}`, { method: 'DELETE', key: await h.key('turns:read') })).status).toBe(403);

    const first = await h.fetch(`/v1/sessions/${sessionId}`, { method: 'DELETE', key });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ deleted: true });
    expect((await h.fetch(`/v1/sessions/${sessionId}`, { key })).status).toBe(404);
    expect((await h.fetch(`/v1/turns/${accepted.turnId}`, { key })).status).toBe(404);
    expect(await (await h.fetch(`/v1/sessions/${sessionId}`, { method: 'DELETE', key })).json()).toEqual({ deleted: false });
    expect((await h.fetch('/v1/sessions/sess_nope', { method: 'DELETE', key })).status).toBe(400);
  });
});
