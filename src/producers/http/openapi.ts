// The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with.
import { z } from 'zod';
import { VOXQ_VERSION } from '../../shared/version.js';
import {
  API_PREFIX,
  audioTurnFormSchema,
  createSessionBodySchema,
  errorBodySchema,
  messagesViewSchema,
  sessionViewSchema,
  statisticsViewSchema,
  textTurnBodySchema,
  turnAcceptedSchema,
  turnViewSchema,
} from './schemas.js';

type Json = Record<string, unknown>;
const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): Json => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const json = (s: z.ZodType, io: 'input' | 'output' = 'output') => ({ 'application/json': { schema: schema(s, io) } });
const error = (description: string) => ({ description, content: json(errorBodySchema) });
const authErrors = { '401': error('no API key, or not a live one (code unauthorized / invalid_api_key)'), '403': error('the key lacks the scope (code missing_scope)') };
const pathParam = (name: string, pattern: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });
const sessionId = pathParam('sessionId', '^sess_[0-9a-f-]{36}$');
const turnId = pathParam('turnId', '^turn_[0-9a-f-]{36}$');
const secured = (scope: string) => ({ security: [{ apiKey: [scope] }] });

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'voxq API', version: VOXQ_VERSION, description: 'Voice-assistant turns as durable jobs: STT → LLM → TTS.' },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `voxq keys create --scopes …`' } },
    },
    paths: {
      [`${API_PREFIX}/sessions`]: {
        post: {
          summary: 'create a session',
          ...secured('turns:write'),
          requestBody: { required: true, content: json(createSessionBodySchema, 'input') },
          responses: { '201': { description: 'created', content: json(sessionViewSchema) }, '400': error('invalid input'), '415': error('not JSON'), ...authErrors },
        },
      },
      [`${API_PREFIX}/sessions/{sessionId}`]: {
        get: { summary: 'a session', parameters: [sessionId], ...secured('turns:read'), responses: { '200': { description: 'the session', content: json(sessionViewSchema) }, '404': error('no such session'), ...authErrors } },
      },
      [`${API_PREFIX}/sessions/{sessionId}/messages`]: {
        get: {
          summary: "a session's messages, oldest first",
          parameters: [sessionId, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
          ...secured('turns:read'),
          responses: { '200': { description: 'messages', content: json(messagesViewSchema) }, '400': error('bad limit'), '404': error('no such session'), ...authErrors },
        },
      },
      [`${API_PREFIX}/sessions/{sessionId}/statistics`]: {
        get: { summary: "a session's statistics", parameters: [sessionId], ...secured('turns:read'), responses: { '200': { description: 'statistics', content: json(statisticsViewSchema) }, '404': error('no such session'), ...authErrors } },
      },
      [`${API_PREFIX}/turns`]: {
        post: {
          summary: 'submit a turn (text as JSON, or an audio file as multipart); answers at once with its id',
          ...secured('turns:write'),
          requestBody: {
            required: true,
            content: { ...json(textTurnBodySchema, 'input'), 'multipart/form-data': { schema: schema(audioTurnFormSchema, 'input') } },
          },
          responses: {
            '202': { description: 'queued', content: json(turnAcceptedSchema) },
            '400': error('invalid input (code names it: invalid_input, audio_empty, audio_invalid …)'),
            '404': error('no such session'),
            '413': error('body or audio too large (body_too_large, audio_too_large)'),
            '415': error('neither JSON nor multipart'),
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}`]: {
        get: { summary: 'a turn: status, outputs, timing', parameters: [turnId], ...secured('turns:read'), responses: { '200': { description: 'the turn', content: json(turnViewSchema) }, '404': error('no such turn'), ...authErrors } },
      },
      [`${API_PREFIX}/turns/{turnId}/wait`]: {
        get: {
          summary: 'long-poll: answers when the turn completes or fails, or after timeoutMs with its current state',
          parameters: [turnId, { name: 'timeoutMs', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60000, default: 25000 } }],
          ...secured('turns:read'),
          responses: { '200': { description: 'the turn', content: json(turnViewSchema) }, '404': error('no such turn'), ...authErrors },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/events`]: {
        get: {
          summary:
            "server-sent events: `turn` (the turn now), `stage` ({stage, status: running|waiting|completed|failed, until?}; waiting = back in the queue for a retry or GPU memory) as stages move, then `done` (the finished turn) and the stream ends; `stalled` instead when the turn is unfinished and none of its stage jobs is left",
          parameters: [turnId],
          ...secured('turns:read'),
          responses: {
            '200': { description: 'an event stream (comment lines every 15 s keep it open)', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            '404': error('no such turn'),
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/audio`]: {
        get: {
          summary: "the turn's reply audio",
          parameters: [turnId],
          ...secured('turns:read'),
          responses: { '200': { description: 'audio', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } }, '404': error('no such turn'), '409': error('not completed yet'), ...authErrors },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', ...secured('metrics:read'), responses: { '200': { description: 'text format 0.0.4' }, ...authErrors } } },
      '/healthz': { get: { summary: 'liveness', responses: { '200': { description: 'up' } } } },
      '/readyz': { get: { summary: 'readiness: Redis, MongoDB and a live worker per stage', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
    },
  };
}
