// GET /console: the voice console. Without a sign-in (or with one that no longer holds) it is
// the sign-in page — 200 whatever the Accept header, going on to /console; signed in with a key
// lacking turns:read or turns:write, the same page saying which (403); otherwise the console.
// Its files (console-assets.ts) are open, like any page's scripts: they hold nothing secret.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authenticator } from './auth.js';
import { CONSOLE_PATH } from './board-paths.js';
import { type ConsoleAssetGroup, ConsoleAssets } from './console-assets.js';
import { consolePage } from './console-page.js';
import { consoleScopeProblem, missingConsoleScopes } from './console-scopes.js';
import { HttpError } from './http-errors.js';
import { loginPage } from './login-page.js';

const HTML = 'text/html; charset=utf-8';

export interface ConsoleRoutesOptions {
  auth: Authenticator;
  traceUrlTemplate?: string;
}

export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): void {
  const assets = new ConsoleAssets();
  const page = consolePage({ hasVad: assets.hasVad, ...(options.traceUrlTemplate ? { traceUrlTemplate: options.traceUrlTemplate } : {}) });

  const serveConsole = async (request: Parameters<Authenticator['authenticate']>[0], reply: FastifyReply) => {
    void reply.header('cache-control', 'no-store').header('x-frame-options', 'DENY').type(HTML);
    if (!options.auth.presentsCredentials(request)) return reply.send(loginPage({ next: CONSOLE_PATH }));
    let caller;
    try {
      caller = await options.auth.authenticate(request);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 401) return reply.send(loginPage({ next: CONSOLE_PATH }));
      throw error;
    }
    const lacking = missingConsoleScopes(caller.record);
    if (lacking.length > 0) return reply.status(403).send(loginPage({ next: CONSOLE_PATH, problem: consoleScopeProblem(lacking) }));
    return reply.send(page);
  };
  app.get(CONSOLE_PATH, serveConsole);

  const serveAsset = (group: ConsoleAssetGroup) => async (request: { params: unknown }, reply: FastifyReply) => {
    const { file } = request.params as { file: string };
    const asset = await assets.get(group, file);
    if (!asset) throw new HttpError(404, 'not_found', `no console file ${file}`);
    return reply.type(asset.contentType).header('cache-control', group === 'assets' ? 'no-cache' : 'public, max-age=86400').send(asset.bytes);
  };
  app.get(`${CONSOLE_PATH}/assets/:file`, serveAsset('assets'));
  app.get(`${CONSOLE_PATH}/vendor/vad/:file`, serveAsset('vad'));
  app.get(`${CONSOLE_PATH}/vendor/ort/:file`, serveAsset('ort'));
}
