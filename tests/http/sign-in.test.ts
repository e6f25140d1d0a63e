// The one sign-in for /admin, /console and /v1: POST /login with a key gives a session cookie
// holding a server-side token (never the key), limited to the key's scopes; cookie writes need
// the CSRF token; a malformed, unknown or revoked sign-in is 401; logout ends it; cookies are
// Secure over https, behind a proxy only when VOXQ_TRUST_PROXY believes X-Forwarded-Proto.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '../../src/producers/http/api-process.js';
import type { ApiScope } from '../../src/shared/ports/api-key-store.js';
import { quietLogger } from '../support/pipeline.js';
import { expectError, startApiHarness, type ApiHarness } from './api-harness.js';

let h: ApiHarness;
let proxied: ApiProcess;

beforeAll(async () => {
  h = await startApiHarness();
  h.startWorkers();
  // A second API on the same Redis and database, as deployed behind a TLS-terminating proxy.
  proxied = await startApiProcess({ config: { ...h.pipeline.config, VOXQ_TRUST_PROXY: true }, port: 0, host: '127.0.0.1', log: quietLogger() });
});
afterAll(async () => {
  await proxied?.close();
  await h?.close();
});

interface SignedIn {
  key: string;
  keyId: string;
  token: string;
  csrf: string;
  /** The Cookie header a browser would send back. */
  cookie: string;
  setCookies: string[];
  body: { keyId: string; scopes: string[]; expiresAt: string; csrfToken: string };
}

function cookieOf(setCookies: string[], name: string): string | undefined {
  return setCookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0]?.slice(name.length + 1);
}

async function signIn(scopes: ApiScope[], options: { headers?: Record<string, string>; url?: string } = {}): Promise<SignedIn> {
  const { key, record } = await h.api.keys.create({ scopes, name: 'browser' });
  const res = await fetch(`${options.url ?? h.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify({ key }) });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const setCookies = res.headers.getSetCookie();
  const token = cookieOf(setCookies, 'voxq_session') ?? '';
  const csrf = cookieOf(setCookies, 'voxq_csrf') ?? '';
  return { key, keyId: record.keyId, token, csrf, cookie: `voxq_session=${token}; voxq_csrf=${csrf}`, setCookies, body: JSON.parse(text) as SignedIn['body'] };
}

const withCookie = (cookie: string, headers: Record<string, string> = {}) => ({ headers: { cookie, ...headers } });

describe('POST /login', () => {
  it('sets an HttpOnly, SameSite=Strict, Path=/ session cookie holding a token, not the key, limited to the key’s scopes', async () => {
    const s = await signIn(['turns:read', 'turns:write']);
    expect(s.body).toMatchObject({ keyId: s.keyId, scopes: ['turns:read', 'turns:write'], csrfToken: s.csrf });
    expect(new Date(s.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const session = s.setCookies.find((c) => c.startsWith('voxq_session='));
    expect(session).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(s.setCookies.find((c) => c.startsWith('voxq_csrf='))).not.toContain('HttpOnly');
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const secret = s.key.slice(22); // after voxq_<16 hex>_
    expect(s.setCookies.join('\n')).not.toContain(secret);
    // Redis holds neither the key nor the token: the sign-in lives under the token's hash.
    const stored = await h.pipeline.redis.keys(`${h.pipeline.prefix}:api:sign-in:*`);
    expect(stored.length).toBeGreaterThan(0);
    const everything = JSON.stringify(await Promise.all(stored.map(async (k) => [k, await h.pipeline.redis.hgetall(k)])));
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(s.token);
    expect(everything).not.toContain(s.csrf);

    // The cookie works for /v1 with the key's scopes, and no more.
    expect((await h.fetch('/v1/stages', withCookie(s.cookie))).status).toBe(200);
    await expectError(await h.fetch('/metrics', withCookie(s.cookie)), 403, 'missing_scope');
  });

  it('refuses an unknown key (401), no key (400) and a sign-in posted from another origin (403)', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) => h.fetch('/login', { method: 'POST', json: body, headers });
    await expectError(await post({ key: `voxq_0123456789abcdef_${'A'.repeat(43)}` }), 401, 'invalid_api_key');
    await expectError(await post({}), 400, 'invalid_input');
    const { key } = await h.api.keys.create({ scopes: ['turns:read'] });
    const url = new URL(h.url);
    await expectError(await post({ key }, { origin: 'https://evil.example' }), 403, 'cross_origin');
    await expectError(await post({ key }, { origin: 'null' }), 403, 'cross_origin');
    expect((await post({ key }, { origin: url.origin })).status).toBe(200);
  });

  it('the page’s form: on to `next` on this server (or the board), never to another site; a board form needs a board key', async () => {
    const form = (fields: Record<string, string>) => h.fetch('/login', { method: 'POST', redirect: 'manual', body: new URLSearchParams(fields), headers: { accept: 'text/html' } });
    const admin = (await h.api.keys.create({ scopes: ['board:admin'] })).key;
    const reader = (await h.api.keys.create({ scopes: ['board:read'] })).key;
    const turns = (await h.api.keys.create({ scopes: ['turns:read'] })).key;
    const toBoard = await form({ key: reader, next: '/admin/queues' });
    expect(toBoard.status).toBe(303);
    expect(toBoard.headers.get('location')).toBe('/admin/queues');
    expect(toBoard.headers.getSetCookie().some((c) => c.startsWith('voxq_session='))).toBe(true);
    expect((await form({ key: admin })).headers.get('location')).toBe('/admin/queues');
    expect((await form({ key: reader })).headers.get('location')).toBe('/admin/queues-read-only');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      expect((await form({ key: admin, next })).headers.get('location'), next).toBe('/admin/queues');
    }
    const signedIn = await form({ key: turns });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain('Signed in');
    const refused = await form({ key: turns, next: '/admin/queues' });
    expect(refused.status).toBe(403);
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect(await refused.text()).toContain('neither board:read nor board:admin');
    const bad = await form({ key: 'voxq_nope', next: '/admin/queues' });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('unknown, malformed or revoked');
  });

  it('GET /login and /admin/login serve the sign-in page', async () => {
    for (const path of ['/login', '/admin/login']) {
      const res = await h.fetch(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<form method="post" action="/login">');
    }
  });
});

describe('cookie-authenticated writes need the CSRF token', () => {
  it('refused without it (csrf_token_missing) or with another (csrf_token_invalid); passes with x-csrf-token; reads need none', async () => {
    const s = await signIn(['turns:read', 'turns:write']);
    const create = (headers: Record<string, string> = {}) => h.fetch('/v1/sessions', { json: { userId: 'ana' }, ...withCookie(s.cookie, headers) });
    await expectError(await create(), 403, 'csrf_token_missing');
    await expectError(await create({ 'x-csrf-token': 'A'.repeat(43) }), 403, 'csrf_token_invalid');
    const other = await signIn(['turns:read', 'turns:write']);
    await expectError(await create({ 'x-csrf-token': other.csrf }), 403, 'csrf_token_invalid');
    const created = await create({ 'x-csrf-token': s.csrf });
    expect(created.status).toBe(201);
    const { sessionId } = (await created.json()) as { sessionId: string };
    // Reads need no token; turns and cancel are writes like any other.
    expect((await h.fetch(`/v1/sessions/${sessionId}`, withCookie(s.cookie))).status).toBe(200);
    await expectError(await h.fetch('/v1/turns', { json: { sessionId, text: 'oi' }, ...withCookie(s.cookie) }), 403, 'csrf_token_missing');
    const turn = await h.fetch('/v1/turns', { json: { sessionId, text: 'oi' }, ...withCookie(s.cookie, { 'x-csrf-token': s.csrf }) });
    expect(turn.status).toBe(202);
    await expectError(await h.fetch(`/v1/sessions/${sessionId}/cancel`, { json: {}, ...withCookie(s.cookie) }), 403, 'csrf_token_missing');
    // A bearer key needs no CSRF token (it is not sent by a browser on its own).
    expect((await h.fetch('/v1/sessions', { key: s.key, json: { userId: 'ana' } })).status).toBe(201);
  });

  it('the board: the cookie signs in to it, and its actions need the token (Bull Board’s UI sends X-XSRF-TOKEN)', async () => {
    const s = await signIn(['board:admin']);
    expect(s.setCookies.find((c) => c.startsWith('XSRF-TOKEN='))).toMatch(/^XSRF-TOKEN=[^;]+; Path=\/admin; SameSite=Strict/);
    expect((await h.fetch('/admin/queues/api/queues', withCookie(s.cookie))).status).toBe(200);
    const clean = (headers: Record<string, string> = {}) => h.fetch('/admin/queues/api/queues/llm/clean/completed', { method: 'PUT', ...withCookie(s.cookie, headers) });
    await expectError(await clean(), 403, 'csrf_token_missing');
    await expectError(await clean({ 'x-xsrf-token': 'nope' }), 403, 'csrf_token_invalid');
    expect((await clean({ 'x-xsrf-token': s.csrf })).status).toBeLessThan(300);
    // A read-only sign-in is sent to the read-only board, and refused the full board's API.
    const reader = await signIn(['board:read']);
    const page = await h.fetch('/admin/queues', { redirect: 'manual', ...withCookie(reader.cookie) });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/admin/queues-read-only');
    await expectError(await h.fetch('/admin/queues/api/queues', withCookie(reader.cookie)), 403, 'missing_scope');
  });
});

describe('a sign-in that does not hold is 401, never a 500', () => {
  it('a malformed, unknown or empty cookie is 401 invalid_session on /v1, the board and /readyz', async () => {
    const bad = ['voxq_session=%E0%A4%A', 'voxq_session=', 'voxq_session=abc', `voxq_session=${'A'.repeat(43)}`, 'voxq_session="quoted"', 'voxq_session=a=b=c', `voxq_session=${'%'.repeat(300)}`];
    for (const cookie of bad) {
      await expectError(await h.fetch('/v1/stages', withCookie(cookie)), 401, 'invalid_session');
      await expectError(await h.fetch('/v1/sessions', { json: { userId: 'x' }, ...withCookie(cookie) }), 401, 'invalid_session');
      await expectError(await h.fetch('/admin/queues/api/queues', withCookie(cookie)), 401, 'invalid_session');
      await expectError(await h.fetch('/readyz', withCookie(cookie)), 401, 'invalid_session');
    }
    // The old board cookie held the key itself: it no longer signs anyone in.
    const { key } = await h.api.keys.create({ scopes: ['board:admin'] });
    await expectError(await h.fetch('/admin/queues/api/queues', withCookie(`voxq_board=${encodeURIComponent(key)}`)), 401, 'unauthorized');
  });

  it('revoking the key ends its sign-ins at once', async () => {
    const s = await signIn(['turns:read']);
    expect((await h.fetch('/v1/stages', withCookie(s.cookie))).status).toBe(200);
    expect(await h.api.keys.revoke(s.keyId)).toBe(true);
    await expectError(await h.fetch('/v1/stages', withCookie(s.cookie)), 401, 'invalid_session');
    // …and the sign-in is gone from Redis.
    await expectError(await h.fetch('/v1/stages', withCookie(s.cookie)), 401, 'invalid_session');
  });

  it('logout (a write: with the CSRF token) ends the sign-in and clears the cookies', async () => {
    const s = await signIn(['turns:read']);
    await expectError(await h.fetch('/logout', { method: 'POST', ...withCookie(s.cookie) }), 403, 'csrf_token_missing');
    expect((await h.fetch('/v1/stages', withCookie(s.cookie))).status).toBe(200);
    const out = await h.fetch('/logout', { method: 'POST', ...withCookie(s.cookie, { 'x-csrf-token': s.csrf }) });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie();
    for (const name of ['voxq_session', 'voxq_csrf', 'XSRF-TOKEN']) expect(cleared.find((c) => c.startsWith(`${name}=;`))).toContain('Max-Age=0');
    await expectError(await h.fetch('/v1/stages', withCookie(s.cookie)), 401, 'invalid_session');
    // Logging out again, or with no sign-in, only clears the cookies.
    expect((await h.fetch('/logout', { method: 'POST', ...withCookie(s.cookie) })).status).toBe(204);
    expect((await h.fetch('/logout', { method: 'POST' })).status).toBe(204);
  });

  it('a sign-in with metrics:read gets /readyz’s details', async () => {
    const s = await signIn(['metrics:read']);
    const body = (await (await h.fetch('/readyz', withCookie(s.cookie))).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ready: true, redis: { ok: true }, mongo: { ok: true } });
  });
});

describe('Secure cookies', () => {
  const secureFlags = (s: SignedIn) => s.setCookies.filter((c) => !c.startsWith('voxq_board=')).map((c) => c.endsWith('; Secure'));

  it('not over plain http, and X-Forwarded-Proto is not believed without VOXQ_TRUST_PROXY', async () => {
    expect(secureFlags(await signIn(['turns:read']))).toEqual([false, false, false]);
    expect(secureFlags(await signIn(['turns:read'], { headers: { 'x-forwarded-proto': 'https' } }))).toEqual([false, false, false]);
  });

  it('behind a TLS-terminating proxy (VOXQ_TRUST_PROXY=true, X-Forwarded-Proto: https): Secure, and the sign-in works', async () => {
    const s = await signIn(['turns:read'], { url: proxied.url, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'voxq.example' } });
    expect(secureFlags(s)).toEqual([true, true, true]);
    expect(s.setCookies.find((c) => c.startsWith('voxq_session='))).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const res = await fetch(`${proxied.url}/v1/stages`, { headers: { cookie: s.cookie, 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(200);
    // The same proxy's plain http requests get no Secure; a browser on the proxy's origin may post.
    expect(secureFlags(await signIn(['turns:read'], { url: proxied.url, headers: { 'x-forwarded-proto': 'http' } }))).toEqual([false, false, false]);
    expect(secureFlags(await signIn(['turns:read'], { url: proxied.url, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'voxq.example', origin: 'https://voxq.example' } }))).toEqual([true, true, true]);
  });
});
