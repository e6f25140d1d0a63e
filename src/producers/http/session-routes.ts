// /v1/sessions: create a session, read it, its messages and statistics (all through VoxqClient).
// A bound key sees only its own sessions (session-access.ts).
import type { FastifyInstance } from 'fastify';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { callerOf } from './auth.js';
import { rejectMultipart } from './media-types.js';
import {
  API_PREFIX,
  cancelBodySchema,
  createSessionBodySchema,
  messagesQuerySchema,
  messagesView,
  sessionParamsSchema,
  sessionView,
  statisticsView,
} from './schemas.js';
import type { SessionAccess } from './session-access.js';
import { parseInput } from './validate.js';

export function registerSessionRoutes(app: FastifyInstance, client: VoxqClient, access: SessionAccess): void {
  app.post(`${API_PREFIX}/sessions`, { config: { scope: 'turns:write' } }, async (request, reply) => {
    rejectMultipart(request);
    const body = parseInput(createSessionBodySchema, request.body, 'session');
    const metadata = access.newSession(callerOf(request).record, body.userId, body.metadata ?? {});
    const session = await client.createSession(body.userId, metadata);
    return reply.status(201).header('location', `${API_PREFIX}/sessions/${session.sessionId}`).send(sessionView(session));
  });

  app.get(`${API_PREFIX}/sessions/:sessionId`, { config: { scope: 'turns:read' } }, async (request) => {
    const { sessionId } = parseInput(sessionParamsSchema, request.params, 'session id');
    await access.session(callerOf(request).record, sessionId);
    return sessionView(await client.getSession(sessionId));
  });

  app.get(`${API_PREFIX}/sessions/:sessionId/messages`, { config: { scope: 'turns:read' } }, async (request) => {
    const { sessionId } = parseInput(sessionParamsSchema, request.params, 'session id');
    await access.session(callerOf(request).record, sessionId);
    const { limit } = parseInput(messagesQuerySchema, request.query, 'query');
    return messagesView(await client.history(sessionId, limit === undefined ? {} : { limit }));
  });

  // A person's data deleted (LGPD): the session, its turns, messages, audio and event logs, from every store.
  app.delete(`${API_PREFIX}/sessions/:sessionId`, { config: { scope: 'turns:write' } }, async (request) => {
    const { sessionId } = parseInput(sessionParamsSchema, request.params, 'session id');
    const caller = callerOf(request).record;
    if (caller.binding) await access.session(caller, sessionId);
    return { deleted: await client.deleteSession(sessionId) };
  });

  // Barge-in (the seed's cancel_processing): nothing of the session's turns in flight runs after this answers.
  app.post(`${API_PREFIX}/sessions/:sessionId/cancel`, { config: { scope: 'turns:write' } }, async (request) => {
    rejectMultipart(request);
    const { sessionId } = parseInput(sessionParamsSchema, request.params, 'session id');
    await access.session(callerOf(request).record, sessionId);
    const body = parseInput(cancelBodySchema, request.body ?? {}, 'cancel');
    const cancelled = await client.cancelSession(sessionId, body.playedMs === undefined ? {} : { playedMs: body.playedMs });
    return { cancelled };
  });

  app.get(`${API_PREFIX}/sessions/:sessionId/statistics`, { config: { scope: 'turns:read' } }, async (request) => {
    const { sessionId } = parseInput(sessionParamsSchema, request.params, 'session id');
    await access.session(callerOf(request).record, sessionId);
    return statisticsView(await client.statistics(sessionId));
  });
}
