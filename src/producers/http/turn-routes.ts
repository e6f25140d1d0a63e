// /v1/turns: submit a turn (JSON text or multipart audio) and get its id at once; read it; wait
// for it (long-poll); download its reply audio. Everything goes through VoxqClient. A bound key
// sees only its own sessions' turns (session-access.ts); a key with a turns-in-flight quota takes
// a slot before its turn is enqueued (key-quotas.ts).
import { isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newTurnId } from '../../shared/contracts/ids.js';
import { InputError, NotFoundError, TimeoutError } from '../../shared/errors.js';
import type { TurnRequest } from '../../shared/contracts/turn-request.js';
import { isFinalStatus } from '../../shared/contracts/turn.js';
import { TurnFailedError, TurnInterruptedError } from '../sdk/turn-result.js';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { callerOf } from './auth.js';
import { HttpError } from './http-errors.js';
import type { KeyQuotas, TurnState } from './key-quotas.js';
import type { SessionAccess } from './session-access.js';
import type { UploadSlots } from './upload-slots.js';
import { API_PREFIX, audioTurnFieldsSchema, heardBodySchema, sentenceParamsSchema, textTurnBodySchema, turnLinks, turnParamsSchema, turnView, waitQuerySchema } from './schemas.js';
import { parseInput } from './validate.js';

const AUDIO_FIELD = 'audio';

export function registerTurnRoutes(app: FastifyInstance, client: VoxqClient, access: SessionAccess, quotas: KeyQuotas, uploads: UploadSlots): void {
  const stateOf = async (turnId: string): Promise<TurnState> => {
    try {
      return isFinalStatus((await client.getTurn(turnId)).status) ? 'ended' : 'running';
    } catch (error) {
      if (error instanceof NotFoundError) return 'unknown';
      throw error;
    }
  };

  // An audio upload takes one of this process's upload slots before its body is read.
  app.post(`${API_PREFIX}/turns`, { config: { scope: 'turns:write' }, onRequest: uploads.hook }, async (request, reply) => {
    const { record } = callerOf(request);
    const parsed = request.isMultipart() ? await audioTurnRequest(request) : textTurnRequest(request.body);
    await access.session(record, parsed.sessionId);
    // A quota counts turns by id: one of the caller's, or one given here before the turn exists.
    const turnRequest = record.quota?.maxTurnsInFlight === undefined || parsed.turnId ? parsed : { ...parsed, turnId: newTurnId() };
    const slot = await quotas.reserveTurn(record, turnRequest.turnId ?? '', stateOf);
    // The request's span is the turn's root: every stage on every worker joins its trace.
    const handle = await client.enqueueTurn(turnRequest, request.span ? { trace: trace.setSpan(ROOT_CONTEXT, request.span) } : {}).catch(async (error: unknown) => {
      await slot.release();
      throw error;
    });
    request.span?.addEvent('voxq.turn.enqueued', { 'voxq.turn.id': handle.turnId, 'voxq.session.id': handle.sessionId });
    const links = turnLinks(handle.turnId);
    // The trace the turn joined, when this process traces: a client links to it (VOXQ_TRACE_URL_TEMPLATE).
    const spanContext = request.span?.spanContext();
    const traceId = spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
    return reply
      .status(202)
      .header('location', links.self)
      .send({ turnId: handle.turnId, sessionId: handle.sessionId, status: 'queued', links, ...(traceId ? { traceId } : {}) });
  });

  app.get(`${API_PREFIX}/turns/:turnId`, { config: { scope: 'turns:read' } }, async (request) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    await access.turn(callerOf(request).record, turnId);
    return turnView(await client.getTurn(turnId));
  });

  // Long-poll: answers when the turn completes or fails, or after timeoutMs with its state then.
  app.get(`${API_PREFIX}/turns/:turnId/wait`, { config: { scope: 'turns:read' } }, async (request) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    await access.turn(callerOf(request).record, turnId);
    const { timeoutMs } = parseInput(waitQuerySchema, request.query, 'query');
    const now = await client.getTurn(turnId);
    if (isFinalStatus(now.status) || timeoutMs === 0) return turnView(now);
    try {
      await client.waitForTurn(turnId, { timeoutMs, includeAudio: false, sessionId: now.sessionId });
    } catch (error) {
      if (!(error instanceof TurnFailedError) && !(error instanceof TurnInterruptedError) && !(error instanceof TimeoutError)) throw error;
    }
    return turnView(await client.getTurn(turnId));
  });

  // The user stopped listening: a running turn is cancelled there, a completed one's stored reply cut to what was heard.
  app.post(`${API_PREFIX}/turns/:turnId/heard`, { config: { scope: 'turns:write' } }, async (request) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    await access.turn(callerOf(request).record, turnId);
    const { playedMs } = parseInput(heardBodySchema, request.body ?? {}, 'heard');
    return { cut: await client.replyHeard(turnId, { playedMs }) };
  });

  app.get(`${API_PREFIX}/turns/:turnId/audio`, { config: { scope: 'turns:read' } }, async (request, reply) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    await access.turn(callerOf(request).record, turnId);
    const turn = await client.getTurn(turnId);
    if (turn.status !== 'completed') {
      throw new HttpError(409, 'turn_not_completed', `turn ${turnId} is ${turn.status}: its reply audio exists once it completes (GET …/wait)`);
    }
    // Finished already, so this returns at once with the stored reply.
    const result = await client.waitForTurn(turnId, { timeoutMs: 5000 });
    return reply
      .type(result.replyAudio.format.mimeType)
      .header('content-disposition', `inline; filename="${turnId}.wav"`)
      .send(Buffer.from(result.replyAudio.bytes.buffer, result.replyAudio.bytes.byteOffset, result.replyAudio.bytes.byteLength));
  });

  // One sentence's audio chunk, as its event carried it: answers at once while the turn runs.
  app.get(`${API_PREFIX}/turns/:turnId/audio/:index`, { config: { scope: 'turns:read' } }, async (request, reply) => {
    const { turnId, index } = parseInput(sentenceParamsSchema, request.params, 'turn id and sentence index');
    await access.turn(callerOf(request).record, turnId);
    const chunk = await client.sentenceAudio(turnId, index);
    return reply
      .type(chunk.mimeType)
      .header('content-disposition', `inline; filename="${turnId}.${index}.${chunk.format.container}"`)
      .send(Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength));
  });
}

function textTurnRequest(body: unknown): TurnRequest {
  if (body === undefined || body === null) throw new InputError('invalid_input', 'send a JSON body with sessionId and text, or multipart with an audio file');
  return parseInput(textTurnBodySchema, body, 'turn');
}

/** Reads the multipart parts: one `audio` file (size-limited by the multipart plugin) and text fields. */
async function audioTurnRequest(request: FastifyRequest): Promise<TurnRequest> {
  const fields: Record<string, string> = {};
  let audio: Buffer | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== AUDIO_FIELD) {
          part.file.resume();
          throw new InputError('invalid_input', `unexpected file field "${part.fieldname}": send the recording as "${AUDIO_FIELD}"`);
        }
        audio = await part.toBuffer();
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    // The client left, or was cut off for sending too slowly (slow-clients.ts): its fault, not the server's.
    if (request.raw.destroyed && !(error instanceof InputError)) throw new InputError('upload_incomplete', 'the connection closed before the upload was whole');
    throw error;
  }
  if (!audio) throw new InputError('audio_missing', `the multipart form has no "${AUDIO_FIELD}" file`);
  const parsed = parseInput(audioTurnFieldsSchema, fields, 'turn');
  return { ...parsed, audio: new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength) };
}
