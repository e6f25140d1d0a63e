// Bull Board for every voxq queue, behind API keys, served as two boards on one port:
// - `/admin/queues`: the full board with its actions (retry, clean, remove, promote …), for
//   keys with `board:admin`. A key with only `board:read` that opens one of its pages is
//   redirected to the same page of the read-only board; its API refuses that key (403).
// - `/admin/queues-read-only`: the same queues through adapters in Bull Board's read-only mode
//   (no action buttons; its API rejects actions itself), for `board:read` or `board:admin`.
// A browser signs in at `/admin/login` with a key, which sets an HttpOnly, SameSite=Strict cookie
// scoped to /admin; API clients send the key as a bearer header instead.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import { BOARD_COOKIE, cookieValue, hasScope } from './auth.js';
import { loginPage } from './login-page.js';

import { BOARD_PATH, LOGIN_PATH, READ_ONLY_BOARD_PATH } from './board-paths.js';
const COOKIE_MAX_AGE_S = 12 * 3600;

export interface BoardOptions {
  queues: readonly Queue[];
  keys: ApiKeyStore;
}

export async function registerBoard(app: FastifyInstance, options: BoardOptions): Promise<void> {
  await app.register((scope, _opts, done) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.get(LOGIN_PATH, (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage()));
    scope.post(LOGIN_PATH, async (request, reply) => {
      const key = typeof (request.body as { key?: unknown } | undefined)?.key === 'string' ? (request.body as { key: string }).key.trim() : '';
      const record = key === '' ? null : await options.keys.verify(key);
      if (!record) return reply.status(401).type('text/html; charset=utf-8').send(loginPage('That key is unknown, malformed or revoked.'));
      if (!hasScope(record, ['board:read', 'board:admin'])) {
        return reply.status(403).type('text/html; charset=utf-8').send(loginPage('That key has neither board:read nor board:admin.'));
      }
      const secure = request.protocol === 'https' ? '; Secure' : '';
      void reply.header('set-cookie', `${BOARD_COOKIE}=${encodeURIComponent(key)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure}`);
      return reply.redirect(hasScope(record, 'board:admin') ? BOARD_PATH : READ_ONLY_BOARD_PATH, 303);
    });
    done();
  });

  await mountBoard(app, options, BOARD_PATH, false);
  await mountBoard(app, options, READ_ONLY_BOARD_PATH, true);
}

async function mountBoard(app: FastifyInstance, options: BoardOptions, basePath: string, readOnlyMode: boolean): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, description: `voxq ${queue.name} stage` })),
    // @bull-board/fastify 9.10.1 pins its own copy of @bull-board/api 9.10.1: same shape, distinct
    // private declarations, hence the cast. Pinning @bull-board/api to the adapter's version removes it.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: readOnlyMode ? 'voxq (read-only)' : 'voxq' } },
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', boardGuard(options.keys, basePath, readOnlyMode));
    await scope.register(adapter.registerPlugin(), { prefix: basePath });
  });
}

/** Lets a request into a board, redirects a read-only key to the read-only board, or refuses it. */
function boardGuard(keys: ApiKeyStore, basePath: string, readOnlyMode: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    void reply.header('cache-control', 'no-store');
    const key = presented(request);
    const record = key ? await keys.verify(key) : null;
    if (!record) {
      await refuse(request, reply, 401, key ? 'That key is unknown, malformed or revoked.' : undefined);
      return;
    }
    if (hasScope(record, 'board:admin')) return;
    if (readOnlyMode && hasScope(record, 'board:read')) return;
    const isPage = request.method === 'GET' && !request.url.startsWith(`${basePath}/api/`) && !request.url.startsWith(`${basePath}/static/`);
    if (!readOnlyMode && isPage && hasScope(record, 'board:read')) {
      await reply.redirect(`${READ_ONLY_BOARD_PATH}${request.url.slice(basePath.length)}`, 302);
      return;
    }
    await refuse(request, reply, 403, readOnlyMode ? 'This key lacks the board:read scope.' : 'This key lacks the board:admin scope.');
  };
}

function presented(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return cookieValue(request.headers.cookie, BOARD_COOKIE);
}

async function refuse(request: FastifyRequest, reply: FastifyReply, status: 401 | 403, problem: string | undefined): Promise<void> {
  const code = status === 401 ? (problem ? 'invalid_api_key' : 'unauthorized') : 'missing_scope';
  const message = problem ?? 'Bull Board needs an API key with board:read or board:admin.';
  if ((request.headers.accept ?? '').includes('text/html')) {
    await reply.status(status).type('text/html; charset=utf-8').send(loginPage(message));
  } else {
    await reply.status(status).type('application/json; charset=utf-8').send({ code, message, requestId: request.id });
  }
}
