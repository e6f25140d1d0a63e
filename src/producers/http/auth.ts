// Who is calling, and may they. A request authenticates with an API key as
// `Authorization: Bearer voxq_…`, or, in a browser, with the `voxq_session` cookie of a sign-in
// (sign-in-routes.ts): a server-side session of a key, limited to the scopes the key had then
// and still has. Routes name the scope they need in their config; routes without one are open
// (health, OpenAPI, sign-in). A cookie-authenticated write (POST, PUT, PATCH, DELETE) must carry
// the sign-in's CSRF token in `x-csrf-token` (or `x-xsrf-token`, which Bull Board's UI sends),
// and every authenticated request counts against its key's requests-per-minute quota.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRecord, ApiKeyStore, ApiScope } from '../../shared/ports/api-key-store.js';
import { HttpError } from './http-errors.js';
import type { KeyQuotas } from './key-quotas.js';
import type { SignIn, SignInStore } from './sign-in-store.js';

/** HttpOnly: the sign-in's token. */
export const SESSION_COOKIE = 'voxq_session';
/** Readable by the page: the CSRF token to echo in `x-csrf-token` on writes. */
export const CSRF_COOKIE = 'voxq_csrf';
/** The same token under the name Bull Board's UI (axios) reads and echoes as `X-XSRF-TOKEN`. */
export const BOARD_CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-csrf-token';
const CSRF_HEADERS = [CSRF_HEADER, 'x-xsrf-token'] as const;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller's key must hold; one of several when a list. Absent: an open route. */
    scope?: ApiScope | readonly ApiScope[];
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export interface Caller {
  /** The key, with the scopes this request may use. */
  record: ApiKeyRecord;
  via: 'bearer' | 'cookie';
  /** The sign-in of a cookie request. */
  signIn?: SignIn;
}

/** A cookie's value; a value that does not decode is returned as it is (and then fails as malformed). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0 || part.slice(0, at).trim() !== name) continue;
    const raw = part.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

export class Authenticator {
  constructor(
    private readonly keys: ApiKeyStore,
    readonly signIns: SignInStore,
    private readonly quotas: KeyQuotas,
  ) {}

  /** True when the request carries a bearer header or a sign-in cookie. */
  presentsCredentials(request: FastifyRequest): boolean {
    return request.headers.authorization !== undefined || cookieValue(request.headers.cookie, SESSION_COOKIE) !== undefined;
  }

  /** The caller, from the bearer header, else the sign-in cookie; 401 when neither, or not live. */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    if (request.caller) return request.caller;
    const header = request.headers.authorization;
    let caller: Caller;
    if (header !== undefined) {
      const key = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      const record = key ? await this.keys.verify(key) : null;
      if (!record) throw new HttpError(401, 'invalid_api_key', 'the API key is unknown, malformed or revoked');
      caller = { record, via: 'bearer' };
    } else {
      const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
      if (token === undefined) {
        throw new HttpError(401, 'unauthorized', 'this endpoint needs an API key: send `Authorization: Bearer voxq_…` (create one with `voxq keys create`), or sign in at /login');
      }
      caller = await this.fromSignIn(token);
    }
    request.caller = caller;
    return caller;
  }

  private async fromSignIn(token: string): Promise<Caller> {
    const refused = new HttpError(401, 'invalid_session', 'the sign-in cookie is malformed, unknown or expired, or its key was revoked: sign in again at /login');
    const signIn = await this.signIns.find(token);
    if (!signIn) throw refused;
    const key = await this.keys.get(signIn.keyId);
    if (!key) {
      await this.signIns.delete(token); // its key was revoked: the sign-in ends with it
      throw refused;
    }
    return { record: { ...key, scopes: key.scopes.filter((s) => signIn.scopes.includes(s)) }, via: 'cookie', signIn };
  }

  /** Lets an authenticated request through: the CSRF token on a cookie write (403), then the key's request quota (429). */
  async admit(request: FastifyRequest, caller: Caller): Promise<void> {
    if (caller.signIn) checkCsrf(request, caller.signIn);
    await this.quotas.admitRequest(caller.record);
  }
}

/** A write (not GET, HEAD, OPTIONS) by a sign-in must echo its CSRF token: 403 otherwise. */
export function checkCsrf(request: FastifyRequest, signIn: SignIn): void {
  if (SAFE_METHODS.has(request.method)) return;
  const presented = CSRF_HEADERS.map((name) => request.headers[name]).find((v) => typeof v === 'string' && v !== '');
  if (typeof presented !== 'string') {
    throw new HttpError(403, 'csrf_token_missing', `a write signed in by cookie needs the ${CSRF_HEADER} header: the value of the ${CSRF_COOKIE} cookie (or csrfToken from POST /login)`);
  }
  if (!signIn.csrfMatches(presented)) throw new HttpError(403, 'csrf_token_invalid', `the ${CSRF_HEADER} header is not this sign-in's CSRF token`);
}

export function hasScope(record: ApiKeyRecord, wanted: ApiScope | readonly ApiScope[]): boolean {
  const options: readonly ApiScope[] = typeof wanted === 'string' ? [wanted] : wanted;
  return options.some((scope) => record.scopes.includes(scope));
}

export function requireScope(record: ApiKeyRecord, wanted: ApiScope | readonly ApiScope[]): void {
  if (!hasScope(record, wanted)) {
    const names = typeof wanted === 'string' ? wanted : wanted.join(' or ');
    throw new HttpError(403, 'missing_scope', `this API key lacks the ${names} scope`);
  }
}

/** The caller of a route with a scope (set by scopeHook before any handler runs). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`route ${request.routeOptions.url ?? ''} has no scope: it has no caller`);
  return request.caller;
}

/** onRequest hook: enforces the route's `scope` config (open routes pass), CSRF and the request quota. */
export function scopeHook(auth: Authenticator) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const caller = await auth.authenticate(request);
    void reply.header('cache-control', 'no-store');
    requireScope(caller.record, scope);
    await auth.admit(request, caller);
  };
}
