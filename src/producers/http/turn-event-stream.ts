// GET /v1/turns/:turnId/events: a turn's event log as server-sent events, so a browser can start
// playing the first sentence while the rest is generated. The stream opens with `turn` (the turn
// as it is now), then carries the log's events in order — `accepted`, `stage`, `transcript`,
// `text` (reply deltas), `sentence` (index, text, audio as base64 plus `audioUrl`), `end`
// (completed / interrupted with what was heard / failed) — each with its log id as the SSE id,
// and closes with `done` (the finished turn). A client that reconnects with `Last-Event-ID` (an
// EventSource does it by itself) gets only what came after. After the log's TTL the finished
// turn's record stands in for it.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { VoxqClient } from '../sdk/voxq-client.js';
import type { TurnEvent } from '../sdk/turn-events.js';
import { callerOf } from './auth.js';
import { HttpError } from './http-errors.js';
import type { SessionAccess } from './session-access.js';
import { API_PREFIX, turnParamsSchema, turnView } from './schemas.js';
import { parseInput } from './validate.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** A log id (`<ms>-<seq>`) or a record stand-in's (`record-<n>`). */
const lastEventIdSchema = z.string().regex(/^(\d+-\d+|record-\d+)$/, 'Last-Event-ID must be an event id from this stream');

export function registerTurnEventStream(app: FastifyInstance, client: VoxqClient, access: SessionAccess): void {
  const open = new Set<AbortController>();
  let shuttingDown = false;
  // Open streams would hold the server's close until their turns end: end them first (and
  // close their connections, which would otherwise wait out the keep-alive timeout).
  app.addHook('preClose', (done) => {
    shuttingDown = true;
    for (const stream of open) stream.abort();
    done();
  });

  app.get(`${API_PREFIX}/turns/:turnId/events`, { config: { scope: 'turns:read' } }, async (request, reply) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    const header = request.headers['last-event-id'];
    const after = header === undefined || header === '' ? undefined : parseInput(lastEventIdSchema, header, 'Last-Event-ID header');
    if (shuttingDown) throw new HttpError(503, 'shutting_down', 'the API is shutting down: connect to another instance');
    const res = reply.raw;
    // Registered before the first await: a client that leaves, or a shutdown, at any point ends the stream.
    const stream = new AbortController();
    open.add(stream);
    res.on('close', () => stream.abort());
    try {
      await access.turn(callerOf(request).record, turnId); // another key's turn: a 404 as if unknown
      const turn = await client.getTurn(turnId); // unknown turn: a 404 like every other route
      if (stream.signal.aborted) {
        if (shuttingDown) throw new HttpError(503, 'shutting_down', 'the API is shutting down: connect to another instance');
        return reply.hijack(); // the client left: nobody to answer
      }
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      try {
        sendEvent(res, 'turn', turnView(turn));
        const recorded = after?.startsWith('record-') ? undefined : after;
        for await (const event of client.turnEvents(turnId, { ...(recorded ? { after: recorded } : {}), signal: stream.signal })) {
          if (after?.startsWith('record-') && event.id <= after) continue;
          sendEvent(res, event.type, wireEvent(event, turnId), event.id);
          if (event.type === 'end') sendEvent(res, 'done', turnView(await client.getTurn(turnId)));
        }
      } catch (error) {
        if (!stream.signal.aborted) request.log.warn({ turnId, err: error }, 'turn event stream ended early');
      } finally {
        clearInterval(heartbeat);
        const socket = res.socket; // detached from the response once it has ended
        res.end(() => {
          if (shuttingDown) socket?.destroy();
        });
      }
    } finally {
      open.delete(stream);
    }
  });
}

/** An event as JSON (its id is the SSE id): a sentence's audio as base64, with the URL that serves the same bytes. */
function wireEvent(event: TurnEvent, turnId: string): Record<string, unknown> {
  if (event.type !== 'sentence') {
    const plain: Record<string, unknown> = { ...event };
    delete plain.id;
    return plain;
  }
  const { bytes, ...audio } = event.audio;
  return {
    type: event.type,
    at: event.at,
    index: event.index,
    text: event.text,
    audio: { ...audio, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), sizeBytes: bytes.byteLength },
    audioUrl: `${API_PREFIX}/turns/${turnId}/audio/${event.index}`,
  };
}

function sendEvent(res: ServerResponse, event: string, data: unknown, id?: string): void {
  res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
