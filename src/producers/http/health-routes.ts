// /healthz (the process is up) and /readyz (dependencies and a worker per stage): open routes.
import type { FastifyInstance } from 'fastify';
import { VOXQ_VERSION } from '../../shared/version.js';
import { checkReadiness, type ReadinessDeps } from './readiness.js';

export function registerHealthRoutes(app: FastifyInstance, deps: ReadinessDeps): void {
  app.get('/healthz', () => ({ status: 'ok', version: VOXQ_VERSION }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await checkReadiness(deps);
    return reply.status(readiness.ready ? 200 : 503).header('cache-control', 'no-store').send({ status: readiness.ready ? 'ready' : 'not_ready', ...readiness });
  });
}
