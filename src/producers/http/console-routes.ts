// GET /console: the voice console. Without a sign-in (or with one that no longer holds) it is
// the sign-in page — 200 whatever the Accept header, going on to /console; signed in with a key
// lacking turns:read or turns:write, the same page saying which (403); otherwise the console.
// Its files (console-assets.ts) are open, like any page's scripts: they hold nothing secret.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, Caller } from './auth.js';
import { CONSOLE_PATH } from './board-paths.js';
import { type ConsoleAssetGroup, ConsoleAssets } from './console-assets.js';
import { consolePage } from './console-page.js';
import { consoleScopeProblem, missingConsoleScopes } from './console-scopes.js';
import { HttpError } from './http-errors.js';
import { loginPage } from './login-page.js';

const HTML = 'text/html; charset=utf-8';
/**
 * The console talks to this server only: scripts, requests, the VAD's model and WebAssembly (which
 * onnxruntime-web compiles: 'wasm-unsafe-eval') all come from here, and no other site may frame it.
 */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "media-src 'self' blob:",
  "img-src 'self' data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleRoutesOptions {
  auth: Authenticator;
  traceUrlTemplate?: string;
}

export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): void {
  const assets = new ConsoleAssets();
  const pageOptions = { hasVad: assets.hasVad, ...(options.traceUrlTemplate ? { traceUrlTemplate: options.traceUrlTemplate } : {}) };
  const page = consolePage(pageOptions);

  app.get(CONSOLE_PATH, async (request, reply) => {
    void reply.header('cache-control', 'no-store').header('x-frame-options', 'DENY').type(HTML);
    const caller = await signedIn(options.auth, request);
    if (!caller) return reply.send(loginPage({ next: CONSOLE_PATH }));
    const lacking = missingConsoleScopes(caller.record);
    if (lacking.length > 0) return reply.status(403).send(loginPage({ next: CONSOLE_PATH, problem: consoleScopeProblem(lacking) }));
    const userId = caller.record.binding?.userId;
    return reply.header('content-security-policy', CONSOLE_CSP).send(userId === undefined ? page : consolePage({ ...pageOptions, userId }));
  });

  const serveAsset = (group: ConsoleAssetGroup) => async (request: FastifyRequest<{ Params: { file: string } }>, reply: FastifyReply) => {
    const { file } = request.params;
    const asset = await assets.get(group, file);
    if (!asset) throw new HttpError(404, 'not_found', `no console file ${file}`);
    return reply.type(asset.contentType).header('cache-control', group === 'assets' ? 'no-cache' : 'public, max-age=86400').send(asset.bytes);
  };
  app.get<{ Params: { file: string } }>(`${CONSOLE_PATH}/assets/:file`, serveAsset('assets'));
  app.get<{ Params: { file: string } }>(`${CONSOLE_PATH}/vendor/vad/:file`, serveAsset('vad'));
  app.get<{ Params: { file: string } }>(`${CONSOLE_PATH}/vendor/ort/:file`, serveAsset('ort'));
}

/** The caller of a request with a live sign-in (or bearer key); undefined when none holds (401). */
async function signedIn(auth: Authenticator, request: FastifyRequest): Promise<Caller | undefined> {
  if (!auth.presentsCredentials(request)) return undefined;
  try {
    return await auth.authenticate(request);
  } catch (error) {
    if (error instanceof HttpError && error.statusCode === 401) return undefined;
    throw error;
  }
}
