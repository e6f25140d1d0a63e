// Bull Board for every voxq queue, behind API keys, served as two boards on one port:
// - `/admin/queues`: the full board with its actions (retry, clean, remove, promote …), for
//   keys with `board:admin`. A key with only `board:read` that opens one of its pages is
//   redirected to the same page of the read-only board; its API refuses that key (403).
// - `/admin/queues-read-only`: the same queues through adapters in Bull Board's read-only mode
//   (no action buttons; its API rejects actions itself), for `board:read` or `board:admin`.
// A browser signs in at `/admin/login` (the one sign-in, sign-in-routes.ts: a session cookie,
// and the CSRF token that Bull Board's UI echoes on its actions); scripts send the bearer header.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { queueLabels } from '../../shared/telemetry/queue-depth.js';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasScope, type Authenticator } from './auth.js';
import { BOARD_PATH, READ_ONLY_BOARD_PATH } from './board-paths.js';
import { describeError, HttpError } from './http-errors.js';
import { loginPage } from './login-page.js';

export interface BoardOptions {
  queues: readonly Queue[];
  auth: Authenticator;
}

export async function registerBoard(app: FastifyInstance, options: BoardOptions): Promise<void> {
  await mountBoard(app, options, BOARD_PATH, false);
  await mountBoard(app, options, READ_ONLY_BOARD_PATH, true);
}

function describeQueue(name: string): string {
  const { queue, shard } = queueLabels(name);
  return shard === undefined ? `voxq ${queue} stage` : `voxq ${queue} stage, shard ${shard}`;
}

async function mountBoard(app: FastifyInstance, options: BoardOptions, basePath: string, readOnlyMode: boolean): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({
    // A sharded stage's queues (`stt.0`, `stt.1` …) are grouped under the stage by the delimiter.
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, delimiter: '.', description: describeQueue(queue.name) })),
    // @bull-board/fastify 9.10.1 pins its own copy of @bull-board/api 9.10.1: same shape, distinct
    // private declarations, hence the cast. Pinning @bull-board/api to the adapter's version removes it.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: readOnlyMode ? 'voxq (read-only)' : 'voxq' } },
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', boardGuard(options.auth, basePath, readOnlyMode));
    await scope.register(adapter.registerPlugin(), { prefix: basePath });
  });
}

/** Lets a request into a board, redirects a read-only key to the read-only board, or refuses it. */
function boardGuard(auth: Authenticator, basePath: string, readOnlyMode: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    void reply.header('cache-control', 'no-store');
    try {
      const caller = await auth.authenticate(request);
      const { record } = caller;
      if (!hasScope(record, 'board:admin') && !(readOnlyMode && hasScope(record, 'board:read'))) {
        const isPage = request.method === 'GET' && !request.url.startsWith(`${basePath}/api/`) && !request.url.startsWith(`${basePath}/static/`);
        if (!readOnlyMode && isPage && hasScope(record, 'board:read')) {
          await reply.redirect(`${READ_ONLY_BOARD_PATH}${request.url.slice(basePath.length)}`, 302);
          return;
        }
        throw new HttpError(403, 'missing_scope', readOnlyMode ? 'This key lacks the board:read scope.' : 'This key lacks the board:admin scope.');
      }
      await auth.admit(request, caller); // a cookie's action needs its CSRF token; the key's request quota
    } catch (error) {
      const { status, code, message } = describeError(error);
      if (status >= 500) throw error;
      if (error instanceof HttpError) void reply.headers(error.headers);
      await refuse(request, reply, status, code, code === 'unauthorized' ? 'Bull Board needs an API key with board:read or board:admin.' : message);
    }
  };
}

async function refuse(request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): Promise<void> {
  if ((request.headers.accept ?? '').includes('text/html')) {
    await reply.status(status).type('text/html; charset=utf-8').send(loginPage({ problem: message, next: BOARD_PATH }));
  } else {
    await reply.status(status).type('application/json; charset=utf-8').send({ code, message, requestId: request.id });
  }
}
