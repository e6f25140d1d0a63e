// The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with.
import { z } from 'zod';
import { sentenceAudioSchema, turnLogEventSchema } from '../../shared/contracts/turn-event.js';
import { VOXQ_VERSION } from '../../shared/version.js';
import {
  API_PREFIX,
  audioTurnFormSchema,
  cancelBodySchema,
  cancelViewSchema,
  heardBodySchema,
  heardViewSchema,
  createSessionBodySchema,
  errorBodySchema,
  messagesViewSchema,
  readinessViewSchema,
  sessionViewSchema,
  signInBodySchema,
  signInViewSchema,
  stagesViewSchema,
  statisticsViewSchema,
  textTurnBodySchema,
  turnAcceptedSchema,
  turnViewSchema,
} from './schemas.js';

type Json = Record<string, unknown>;
const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): Json => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const json = (s: z.ZodType, io: 'input' | 'output' = 'output') => ({ 'application/json': { schema: schema(s, io) } });
const error = (description: string) => ({ description, content: json(errorBodySchema) });
const retryAfter = { 'retry-after': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } } };
const authErrors = {
  '401': error('no API key, or not a live one (code unauthorized / invalid_api_key); a sign-in cookie that is malformed, unknown, expired or whose key was revoked (invalid_session)'),
  '403': error('the key lacks the scope (code missing_scope); a write signed in by cookie without its CSRF token in x-csrf-token (csrf_token_missing / csrf_token_invalid)'),
  '429': { ...error("over the key's requests per minute (code rate_limited)"), headers: retryAfter },
};
/** Any request whose headers and body do not arrive whole within VOXQ_API_REQUEST_TIMEOUT_MS; shown on the routes that take a body. */
const slowBody = { '408': error('the request did not arrive whole within the API\'s request timeout (code request_timeout); its connection is closed') };
const pathParam = (name: string, pattern: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });
const sessionId = pathParam('sessionId', '^sess_[0-9a-f-]{36}$');
const turnId = pathParam('turnId', '^turn_[0-9a-f-]{36}$');
const secured = (scope: string) => ({ security: [{ apiKey: [scope] }, { signIn: [scope] }] });
const html = { 'text/html': { schema: { type: 'string' } } };
const sentenceIndex = { name: 'index', in: 'path', required: true, schema: { type: 'integer', minimum: 0, maximum: 10000 }, description: "the sentence's index, as its `sentence` event gives it" };
const lastEventId = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^(\\d+-\\d+|record-\\d+)$' },
  description: 'resume: only the events after this id (an EventSource sends the last id it saw when it reconnects)',
};

/** The data of each SSE event type on GET /v1/turns/{id}/events, in the order they come. */
function turnEventSchemas(): Json {
  const logged = turnLogEventSchema.options.map((option): [string, Json] => {
    const type = option.shape.type.value;
    // On the wire a sentence's audio is always inline, with the URL that serves the same bytes.
    const wire = type === 'sentence' ? option.extend({ audio: sentenceAudioSchema.extend({ base64: z.string() }), audioUrl: z.string() }) : option;
    return [type, schema(wire)];
  });
  return { turn: schema(turnViewSchema), ...Object.fromEntries(logged), done: schema(turnViewSchema) };
}

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'voxq API', version: VOXQ_VERSION, description: 'Voice-assistant turns as durable jobs: STT → LLM → TTS.' },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `voxq keys create --scopes …`' },
        signIn: {
          type: 'apiKey',
          in: 'cookie',
          name: 'voxq_session',
          description: "a browser's sign-in (POST /login): the key's scopes; writes also need the x-csrf-token header (the voxq_csrf cookie's value)",
        },
      },
    },
    paths: {
      [`${API_PREFIX}/sessions`]: {
        post: {
          summary: 'create a session',
          ...secured('turns:write'),
          requestBody: { required: true, content: json(createSessionBodySchema, 'input') },
          description: 'A key bound to a user creates sessions for that userId only; one bound to a tenant gives its sessions metadata.tenant',
          responses: {
            '201': { description: 'created', content: json(sessionViewSchema) },
            '400': error('invalid input'),
            '415': error('not JSON'),
            ...slowBody,
            ...authErrors,
            '403': error('missing_scope; csrf_token_missing / csrf_token_invalid; a bound key asking for another user (user_not_allowed) or tenant (tenant_not_allowed)'),
          },
        },
      },
      [`${API_PREFIX}/sessions/{sessionId}`]: {
        get: { summary: 'a session', parameters: [sessionId], ...secured('turns:read'), responses: { '200': { description: 'the session', content: json(sessionViewSchema) }, '404': error('no such session'), ...authErrors } },
        delete: {
          summary: "delete a person's data: the session, its turns, messages, audio and event logs, from every store (its turns in flight are cancelled first); idempotent",
          parameters: [sessionId],
          ...secured('turns:write'),
          responses: {
            '200': { description: 'deleted: true when there was something to delete', content: json(z.object({ deleted: z.boolean() })) },
            '400': error('bad session id'),
            ...authErrors,
          },
        },
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
      [`${API_PREFIX}/sessions/{sessionId}/cancel`]: {
        post: {
          summary: "barge-in: cancel the session's turns in flight",
          description:
            "Cancels every unfinished turn of the session. Nothing of them runs after this answers; each ends `interrupted` (its event stream sends `end` with status interrupted and heardText, then `done`), and its reply is kept only as far as it was heard: up to playedMs of reply audio played back to back, cut at a word, or without playedMs the sentences a reader of its events received. Safe to call any time",
          parameters: [sessionId],
          ...secured('turns:write'),
          requestBody: { required: false, content: json(cancelBodySchema, 'input') },
          responses: {
            '200': { description: 'cancelled: true when a turn was in flight, false when nothing was', content: json(cancelViewSchema) },
            '400': error('bad session id or playedMs (code invalid_input)'),
            '404': error('no such session (code session_not_found)'),
            '415': error('not JSON'),
            ...slowBody,
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns`]: {
        post: {
          summary: 'submit a turn (text as JSON, or an audio file as multipart); answers at once with its id',
          description:
            'bargeIn: true cancels the session\'s turns in flight first (as POST /v1/sessions/{id}/cancel). An audio upload may send `Expect: 100-continue`: the body is asked for once the key is checked and an upload slot is free, else the final status comes without it',
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
            ...slowBody,
            ...authErrors,
            '429': { ...error("over the key's requests per minute (rate_limited) or turns in flight (too_many_turns)"), headers: retryAfter },
            '503': {
              ...error('multipart: this API instance is receiving as many uploads as it takes at once (code too_many_uploads), refused before the body is read; a client that sent Expect: 100-continue need not send it'),
              headers: retryAfter,
            },
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}`]: {
        get: { summary: 'a turn: status, outputs, timing', parameters: [turnId], ...secured('turns:read'), responses: { '200': { description: 'the turn', content: json(turnViewSchema) }, '404': error('no such turn'), ...authErrors } },
      },
      [`${API_PREFIX}/turns/{turnId}/wait`]: {
        get: {
          summary: 'long-poll: answers when the turn completes, fails or is interrupted, or after timeoutMs with its current state',
          parameters: [turnId, { name: 'timeoutMs', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60000, default: 25000 } }],
          ...secured('turns:read'),
          responses: { '200': { description: 'the turn', content: json(turnViewSchema) }, '404': error('no such turn'), ...authErrors },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/events`]: {
        get: {
          summary: "the turn's events as server-sent events, live: reply text and each sentence's audio as soon as it exists",
          description:
            "From the turn's event log: `turn` (the turn now, no id), then each logged event with its log id as the SSE id — `accepted` ({route}), `stage` ({stage: stt|llm, status: running}), `transcript` ({text, language}), `text` ({delta}: the reply as the LLM streams it), `sentence` ({index, text, audio: {base64, mimeType, format, durationMs, sizeBytes}, audioUrl}: each reply sentence with its audio, in index order, as soon as it is synthesized), `end` ({status: completed|interrupted|failed; heardText and playedMs when interrupted, error when failed}) — then `done` (the finished turn) and the stream ends. A finished turn's stream replays its events at once. With Last-Event-ID only the events after that id come (an EventSource resumes by itself). Once the log has expired, the finished turn's record stands in for it (ids record-1…4)",
          parameters: [turnId, lastEventId],
          ...secured('turns:read'),
          responses: {
            '200': {
              description: 'an event stream (comment lines every 15 s keep it open; the request timeout ends only requests still arriving, never a stream); `x-events` gives the data of each event type',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
              'x-events': turnEventSchemas(),
            },
            '400': error('bad turn id or Last-Event-ID (code invalid_input)'),
            '404': error('no such turn'),
            '503': error('the API is shutting down (code shutting_down): reconnect, to another instance, with Last-Event-ID'),
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/heard`]: {
        post: {
          summary: 'the user stopped listening to the reply after playedMs: the history keeps what was heard',
          description:
            "A running turn is cancelled there (as POST /v1/sessions/{id}/cancel with playedMs). A completed one — its audio all synthesized before the user stopped listening — has its stored reply cut at the last word played and marked interrupted (removed when nothing was heard); the session's next turn sees it cut",
          parameters: [turnId],
          ...secured('turns:write'),
          requestBody: { required: true, content: json(heardBodySchema, 'input') },
          responses: {
            '200': { description: 'cut: true when the reply was cut or the turn cancelled; false when all of it had been played, or the turn failed or was interrupted', content: json(heardViewSchema) },
            '400': error('bad turn id or playedMs (code invalid_input)'),
            '404': error('no such turn (code turn_not_found)'),
            '415': error('not JSON'),
            ...slowBody,
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/audio`]: {
        get: {
          summary: "the turn's whole reply audio, once it has completed",
          parameters: [turnId],
          ...secured('turns:read'),
          responses: {
            '200': { description: 'audio', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
            '404': error('no such turn'),
            '409': error('not completed (queued, running, failed or interrupted): code turn_not_completed'),
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/turns/{turnId}/audio/{index}`]: {
        get: {
          summary: "one reply sentence's audio chunk, the bytes its `sentence` event carried (its audioUrl); served while the turn runs",
          parameters: [turnId, sentenceIndex],
          ...secured('turns:read'),
          responses: {
            '200': { description: "the chunk, in the TTS engine's format", content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
            '400': error('bad turn id or index'),
            '404': error('no such turn, or no such sentence yet or any more (code sentence_not_found; GET …/audio has the whole reply)'),
            ...authErrors,
          },
        },
      },
      [`${API_PREFIX}/stages`]: {
        get: {
          summary: 'each stage: whether workers are live, on which hosts, and the provider, languages and voices it serves',
          ...secured('turns:read'),
          responses: { '200': { description: 'the stages', content: json(stagesViewSchema) }, ...authErrors },
        },
      },
      '/login': {
        get: { summary: 'the sign-in page (a form for an API key)', responses: { '200': { description: 'the page', content: html } } },
        post: {
          summary: 'sign in with an API key: a session cookie for /admin, /console and /v1 (never the key itself)',
          description:
            'Sets voxq_session (HttpOnly, SameSite=Strict, Path=/, Secure over https — behind a proxy with VOXQ_TRUST_PROXY=true, by X-Forwarded-Proto) and voxq_csrf (readable: echo it as x-csrf-token on writes). As JSON it answers the sign-in; as the page\'s form it redirects to `next` (or the board). A sign-in posted from another origin is refused',
          requestBody: { required: true, content: { ...json(signInBodySchema, 'input'), 'application/x-www-form-urlencoded': { schema: schema(signInBodySchema, 'input') } } },
          responses: {
            '200': { description: 'signed in (JSON)', content: json(signInViewSchema) },
            '303': { description: 'signed in (form): on to `next` or the board' },
            '400': error('no key (code invalid_input)'),
            '401': error('the key is unknown, malformed or revoked (code invalid_api_key)'),
            '403': error('posted from another origin (code cross_origin); the board\'s or console\'s form with a key without the scopes it needs (missing_scope)'),
          },
        },
      },
      '/console': {
        get: {
          summary: 'the voice console (a page): without a sign-in, the sign-in page (200, whatever Accept); signed in with a key lacking turns:read or turns:write, the same page saying which (403)',
          responses: { '200': { description: 'the console, or the sign-in page', content: html }, '403': { description: 'the sign-in page: the key lacks a scope', content: html } },
        },
      },
      ...Object.fromEntries(
        ['assets', 'vendor/vad', 'vendor/ort'].map((folder) => [
          `/console/${folder}/{file}`,
          {
            get: {
              summary: `the console's files (${folder === 'assets' ? 'its ES modules and stylesheet' : folder === 'vendor/vad' ? 'the browser VAD: @ricky0123/vad-web bundle, worklet and Silero models' : "onnxruntime-web's WebAssembly build"}), served from the package`,
              parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
              responses: { '200': { description: 'the file' }, '404': error('not a file the console serves') },
            },
          },
        ]),
      ),
      '/logout': {
        post: {
          summary: "end the cookie's sign-in and clear its cookies (with the x-csrf-token header); without a sign-in it only clears them",
          responses: { '204': { description: 'signed out' }, '403': error('a live sign-in without its CSRF token (csrf_token_missing / csrf_token_invalid)') },
        },
      },
      '/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', ...secured('metrics:read'), responses: { '200': { description: 'text format 0.0.4' }, ...authErrors } } },
      '/healthz': { get: { summary: 'liveness', responses: { '200': { description: 'up' } } } },
      '/readyz': {
        get: {
          summary: 'readiness: Redis, MongoDB and a live worker per stage',
          description: 'Open: without a key only {status, ready}. With a key (or sign-in) that has metrics:read, also redis, mongo and each stage\'s workers and hosts',
          security: [{}, { apiKey: ['metrics:read'] }, { signIn: ['metrics:read'] }],
          responses: {
            '200': { description: 'ready', content: json(readinessViewSchema) },
            '401': error('a key or sign-in that is not live'),
            '503': { description: 'not ready', content: json(readinessViewSchema) },
          },
        },
      },
    },
  };
}
