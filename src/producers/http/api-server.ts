// The HTTP API on one port: /v1 (sessions, turns, turn events, stages), Bull Board at
// /admin/queues, the voice console at /console, the sign-in at /login, /metrics, /healthz, /readyz and /openapi.json. This file
// only wires the parts; each lives in its file.
import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RedisClient } from '../../shared/redis.js';
import { MAX_AUDIO_BYTES } from '../../shared/audio/probe.js';
import type { Logger } from '../../shared/logger.js';
import { checkPart } from '../../shared/injected-parts.js';
import { API_KEY_STORE_PORT, type ApiKeyStore } from '../../shared/ports/api-key-store.js';
import { SERVICE_CLIENT_PORT } from '../../shared/ports/service-client.js';
import { PROMETHEUS_METRICS_PORT, type PrometheusMetrics } from '../../shared/telemetry/prometheus-metrics.js';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { Authenticator, scopeHook } from './auth.js';
import { registerBoard } from './board.js';
import { registerConsoleRoutes } from './console-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { errorHandler, sendError } from './http-errors.js';
import { KeyQuotas } from './key-quotas.js';
import { registerMetricsRoute } from './metrics-route.js';
import { openApiDocument } from './openapi.js';
import type { ReadinessDeps } from './readiness.js';
import { registerRequestTracing } from './request-tracing.js';
import { SessionAccess } from './session-access.js';
import { registerSessionRoutes } from './session-routes.js';
import { registerSignInRoutes } from './sign-in-routes.js';
import { SignInStore } from './sign-in-store.js';
import { registerExpectContinue, slowClientOptions } from './slow-clients.js';
import type { StageOffers } from './stage-offers.js';
import { registerStagesRoute } from './stages-route.js';
import { registerTurnEventStream } from './turn-event-stream.js';
import { registerTurnRoutes } from './turn-routes.js';
import { UploadSlots } from './upload-slots.js';

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
  /** Audio uploads received at once by this process; more answer 503 (upload-slots.ts). */
  maxUploads: number;
  /** A request must arrive whole (headers and body) within this, or 408 (slow-clients.ts); 0: no limit. */
  requestTimeoutMs: number;
  /** Sign-ins and per-key quotas live here, under `<prefix>:api:`, shared by every API instance. */
  redis: RedisClient;
  prefix: string;
  signInTtlMs: number;
  /** Behind a TLS-terminating proxy: believe X-Forwarded-Proto/-For/-Host. */
  trustProxy: boolean;
  /** What each stage serves (GET /v1/stages). */
  stageOffers: StageOffers;
  /** VOXQ_TRACE_URL_TEMPLATE: the console links each turn to its trace. */
  traceUrlTemplate?: string;
}

/** The fastify app of the API on the given parts (checked first), not listening yet. */
export async function buildApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  // Injected parts are refused here, naming what they lack, before anything is served.
  checkPart('keys', deps.keys, API_KEY_STORE_PORT);
  checkPart('readiness.services', deps.readiness.services, SERVICE_CLIENT_PORT);
  checkPart('metrics', deps.metrics, PROMETHEUS_METRICS_PORT);
  const app = Fastify({
    logger: false,
    bodyLimit: deps.jsonBodyLimitBytes,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    trustProxy: deps.trustProxy,
    ...slowClientOptions(deps.requestTimeoutMs, deps.log),
  });
  // JSON and multipart only: anything else is 415 before a handler runs.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler(deps.log));
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  await app.register(multipart, { limits: { fileSize: MAX_AUDIO_BYTES, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 } });

  const signIns = new SignInStore(deps.redis, deps.prefix, deps.signInTtlMs);
  const quotas = new KeyQuotas(deps.redis, deps.prefix);
  const auth = new Authenticator(deps.keys, signIns, quotas);
  const access = new SessionAccess(deps.client);

  registerRequestTracing(app);
  app.addHook('onRequest', scopeHook(auth));
  registerExpectContinue(app);

  registerHealthRoutes(app, deps.readiness, auth);
  const openApi = openApiDocument();
  app.get('/openapi.json', () => openApi);
  await registerSignInRoutes(app, { keys: deps.keys, signIns });
  registerSessionRoutes(app, deps.client, access);
  registerTurnRoutes(app, deps.client, access, quotas, new UploadSlots(deps.maxUploads));
  registerTurnEventStream(app, deps.client, access);
  registerStagesRoute(app, deps.readiness, deps.stageOffers);
  registerMetricsRoute(app, deps.metrics);
  await registerBoard(app, { queues: deps.boardQueues, auth });
  registerConsoleRoutes(app, { auth, ...(deps.traceUrlTemplate ? { traceUrlTemplate: deps.traceUrlTemplate } : {}) });
  return app;
}
