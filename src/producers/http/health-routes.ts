// /healthz (the process is up) and /readyz (dependencies and a worker per stage): open routes.
// /readyz tells anyone only ready or not (200/503); a caller whose key (bearer or sign-in) has
// metrics:read also gets the details: Redis, MongoDB, each stage's workers and hosts.
import type { FastifyInstance } from 'fastify';
import { VOXQ_VERSION } from '../../shared/version.js';
import { hasScope, type Authenticator } from './auth.js';
import { checkReadiness, type ReadinessDeps } from './readiness.js';

export function registerHealthRoutes(app: FastifyInstance, deps: ReadinessDeps, auth: Authenticator): void {
  app.get('/healthz', () => ({ status: 'ok', version: VOXQ_VERSION }));
  app.get('/readyz', async (request, reply) => {
    let details = false;
    if (auth.presentsCredentials(request)) {
      const caller = await auth.authenticate(request); // credentials that do not hold: 401, as anywhere
      await auth.admit(request, caller);
      details = hasScope(caller.record, 'metrics:read');
    }
    const readiness = await checkReadiness(deps);
    const status = readiness.ready ? 'ready' : 'not_ready';
    void reply.status(readiness.ready ? 200 : 503).header('cache-control', 'no-store');
    return details ? { status, ...readiness } : { status, ready: readiness.ready };
  });
}
