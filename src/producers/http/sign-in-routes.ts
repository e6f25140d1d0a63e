// One sign-in for the board (/admin), the console (/console) and the API (/v1) in a browser.
// GET /login (and the board's /admin/login) is the page; POST /login takes a key (the page's
// form, or JSON) and starts a server-side sign-in (sign-in-store.ts): the `voxq_session` cookie
// (HttpOnly, SameSite=Strict, Path=/, Secure over https — behind a TLS-terminating proxy when
// VOXQ_TRUST_PROXY believes its X-Forwarded-Proto) holds the sign-in's token, never the key; the
// readable `voxq_csrf` cookie (and `XSRF-TOKEN` for Bull Board's UI) the CSRF token that writes
// echo. POST /logout ends it. A sign-in posted from another site (its Origin) is refused.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRecord, ApiKeyStore } from '../../shared/ports/api-key-store.js';
import { BOARD_CSRF_COOKIE, checkCsrf, cookieValue, CSRF_COOKIE, hasScope, SESSION_COOKIE } from './auth.js';
import { BOARD_PATH, CONSOLE_PATH, LOGIN_PATH, READ_ONLY_BOARD_PATH, SIGN_IN_PATH, SIGN_OUT_PATH } from './board-paths.js';
import { consoleScopeProblem, missingConsoleScopes } from './console-scopes.js';
import { HttpError } from './http-errors.js';
import { loginPage, signedInPage } from './login-page.js';
import { signInBodySchema } from './schemas.js';
import type { NewSignIn, SignInStore } from './sign-in-store.js';
import { parseInput } from './validate.js';

/** The cookie the board's sign-in set before: it held the key itself. Cleared at each sign-in and sign-out. */
const OLD_BOARD_COOKIE = 'voxq_board';
const HTML = 'text/html; charset=utf-8';

export interface SignInRoutesOptions {
  keys: ApiKeyStore;
  signIns: SignInStore;
}

export async function registerSignInRoutes(app: FastifyInstance, options: SignInRoutesOptions): Promise<void> {
  const { keys, signIns } = options;
  await app.register((scope, _opts, done) => {
    // The page's form posts urlencoded; only these routes take it.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.get(SIGN_IN_PATH, (_request, reply) => reply.header('cache-control', 'no-store').type(HTML).send(loginPage()));
    scope.get(LOGIN_PATH, (_request, reply) => reply.header('cache-control', 'no-store').type(HTML).send(loginPage({ next: BOARD_PATH })));

    scope.post(SIGN_IN_PATH, async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const form = isForm(request);
      const next = form ? localPath((request.body as { next?: unknown } | undefined)?.next) : undefined;
      const refuse = (status: number, code: string, message: string) => {
        if (!form) throw new HttpError(status, code, message);
        return reply.status(status).type(HTML).send(loginPage({ problem: message, ...(next ? { next } : {}) }));
      };
      if (!sameOrigin(request)) return refuse(403, 'cross_origin', 'Sign in from this server’s own page: a sign-in posted from another site is refused.');
      const body = signInBodySchema.safeParse(request.body);
      if (!body.success) {
        if (!form) parseInput(signInBodySchema, request.body, 'sign-in'); // throws, naming the field
        return refuse(400, 'invalid_input', 'Enter an API key.');
      }
      const record = await keys.verify(body.data.key);
      if (!record) return refuse(401, 'invalid_api_key', 'That key is unknown, malformed or revoked.');
      if (next?.startsWith('/admin') && !hasScope(record, ['board:read', 'board:admin'])) {
        return refuse(403, 'missing_scope', 'That key has neither board:read nor board:admin.');
      }
      const lacking = next?.startsWith(CONSOLE_PATH) ? missingConsoleScopes(record) : [];
      if (lacking.length > 0) return refuse(403, 'missing_scope', consoleScopeProblem(lacking));
      const signIn = await signIns.create(record);
      void reply.header('set-cookie', signInCookies(request, signIn, Math.floor(signIns.ttlMs / 1000)));
      if (!form) return { keyId: record.keyId, scopes: record.scopes, expiresAt: signIn.expiresAt.toISOString(), csrfToken: signIn.csrfToken };
      const to = next ?? boardOf(record);
      return to ? reply.redirect(to, 303) : reply.type(HTML).send(signedInPage(record.keyId, record.scopes));
    });

    // Ends the cookie's sign-in (a write, so its CSRF token is needed); without one it only clears the cookies.
    scope.post(SIGN_OUT_PATH, async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
      const signIn = token === undefined ? null : await signIns.find(token);
      if (token !== undefined && signIn) {
        checkCsrf(request, signIn);
        await signIns.delete(token);
      }
      return clearCookies(request, reply).status(204).send();
    });
    done();
  });
}

function isForm(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** A path on this server (`/…`, not `//host…`); anything else is dropped. */
function localPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(value) ? value : undefined;
}

/** No Origin (a script, an old browser) passes; a browser's must be this server. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false; // `null` (a sandboxed or privacy-sensitive context) or garbage
  }
}

function boardOf(record: ApiKeyRecord): string | undefined {
  if (hasScope(record, 'board:admin')) return BOARD_PATH;
  return hasScope(record, 'board:read') ? READ_ONLY_BOARD_PATH : undefined;
}

function secureOf(request: FastifyRequest): string {
  return request.protocol === 'https' ? '; Secure' : '';
}

function signInCookies(request: FastifyRequest, signIn: NewSignIn, maxAgeS: number): string[] {
  const attributes = `SameSite=Strict; Max-Age=${maxAgeS}${secureOf(request)}`;
  return [
    `${SESSION_COOKIE}=${signIn.token}; Path=/; HttpOnly; ${attributes}`,
    `${CSRF_COOKIE}=${signIn.csrfToken}; Path=/; ${attributes}`,
    `${BOARD_CSRF_COOKIE}=${signIn.csrfToken}; Path=/admin; ${attributes}`,
    `${OLD_BOARD_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${secureOf(request)}`,
  ];
}

function clearCookies(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const gone = `SameSite=Strict; Max-Age=0${secureOf(request)}`;
  return reply.header('set-cookie', [
    `${SESSION_COOKIE}=; Path=/; HttpOnly; ${gone}`,
    `${CSRF_COOKIE}=; Path=/; ${gone}`,
    `${BOARD_CSRF_COOKIE}=; Path=/admin; ${gone}`,
    `${OLD_BOARD_COOKIE}=; Path=/admin; HttpOnly; ${gone}`,
  ]);
}
