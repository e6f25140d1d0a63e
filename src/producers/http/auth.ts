// API-key authentication and scopes. A key comes as `Authorization: Bearer voxq_…`, or, for
// Bull Board in a browser, as the `voxq_board` cookie that the board's login form sets. Routes
// name the scope they need in their config; routes without one are open (health, OpenAPI).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRecord, ApiKeyStore, ApiScope } from '../../shared/ports/api-key-store.js';
import { HttpError } from './http-errors.js';

export const BOARD_COOKIE = 'voxq_board';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller's key must hold; one of several when a list. Absent: an open route. */
    scope?: ApiScope | readonly ApiScope[];
  }
  interface FastifyRequest {
    apiKey?: ApiKeyRecord;
  }
}

/** The key a request presents, from the bearer header or (for the board) the login cookie. */
export function presentedKey(request: FastifyRequest, allowCookie: boolean): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  if (!allowCookie) return undefined;
  return cookieValue(request.headers.cookie, BOARD_COOKIE);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

/** Resolves the caller's key; 401 when missing or not a live key. */
export async function authenticate(keys: ApiKeyStore, request: FastifyRequest, allowCookie: boolean): Promise<ApiKeyRecord> {
  if (request.apiKey) return request.apiKey;
  const key = presentedKey(request, allowCookie);
  if (key === undefined) {
    throw new HttpError(401, 'unauthorized', 'this endpoint needs an API key: send `Authorization: Bearer voxq_…` (create one with `voxq keys create`)');
  }
  const record = key === '' ? null : await keys.verify(key);
  if (!record) throw new HttpError(401, 'invalid_api_key', 'the API key is unknown, malformed or revoked');
  request.apiKey = record;
  return record;
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

/** onRequest hook: enforces the route's `scope` config (open routes pass). */
export function scopeHook(keys: ApiKeyStore) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const record = await authenticate(keys, request, false);
    void reply.header('cache-control', 'no-store');
    requireScope(record, scope);
  };
}
