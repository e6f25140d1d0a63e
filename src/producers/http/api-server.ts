// The HTTP API on one port: /v1 (sessions, turns, turn events), Bull Board at /admin/queues, /metrics,
// /healthz, /readyz and /openapi.json. This file only wires the parts; each lives in its file.
import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { MAX_AUDIO_BYTES } from '../../shared/audio/probe.js';
import type { Logger } from '../../shared/logger.js';
import type { ApiKeyStore } from '../../shared/ports/api-key-store.js';
import type { PrometheusMetrics } from '../../shared/telemetry/prometheus-metrics.js';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { scopeHook } from './auth.js';
import { registerBoard } from './board.js';
import { registerHealthRoutes } from './health-routes.js';
import { errorHandler, sendError } from './http-errors.js';
import { registerMetricsRoute } from './metrics-route.js';
import { openApiDocument } from './openapi.js';
import type { ReadinessDeps } from './readiness.js';
import { registerRequestTracing } from './request-tracing.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerTurnEventStream } from './turn-event-stream.js';
import { registerTurnRoutes } from './turn-routes.js';

export interface ApiServerDeps {
  client: VoxqClient;
  keys: ApiKeyStore;
  readiness: ReadinessDeps;
  metrics: PrometheusMetrics;
  /** The queues Bull Board shows (every voxq queue). */
  boardQueues: readonly Queue[];
  /** Stage events for /v1/turns/:id/events. */
  log: Logger;
  /** Largest JSON body accepted (audio comes as multipart, limited to 25 MB on its own). */
  jsonBodyLimitBytes: number;
}

export async function buildApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.jsonBodyLimitBytes,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  // JSON and multipart only: anything else is 415 before a handler runs.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler(deps.log));
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  await app.register(multipart, { limits: { fileSize: MAX_AUDIO_BYTES, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });

  registerRequestTracing(app);
  app.addHook('onRequest', scopeHook(deps.keys));

  registerHealthRoutes(app, deps.readiness);
  const openApi = openApiDocument();
  app.get('/openapi.json', () => openApi);
  registerSessionRoutes(app, deps.client);
  registerTurnRoutes(app, deps.client);
  registerTurnEventStream(app, deps.client);
  registerMetricsRoute(app, deps.metrics);
  await registerBoard(app, { queues: deps.boardQueues, keys: deps.keys });
  return app;
}
