// Clients that send slowly, or ask before sending. A request (headers and body) must arrive
// whole within requestTimeoutMs, or its connection is answered 408 `request_timeout` and closed:
// a client trickling a body cannot hold an upload slot or a socket for long. The limit is on
// receiving the request only: an event stream or a long-poll, whose request arrived at once,
// runs as long as it runs. Malformed HTTP answers 400 and oversized headers 431, in the API's
// error body. A request with `Expect: 100-continue` is told to send its body only once every
// onRequest hook (authentication, the upload cap) has let it through; refused, it gets the final
// status and never sends the body.
import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ApiErrorBody } from './http-errors.js';
import type { Logger } from '../../shared/logger.js';

/** Node checks connections for the timeout every 30 s by default; checked this often, a cut comes within a quarter of the limit past it. */
const checkIntervalMs = (requestTimeoutMs: number) => Math.min(30_000, Math.max(50, Math.floor(requestTimeoutMs / 4)));

interface ClientError extends Error {
  code?: string;
}

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request did not arrive whole in time'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request headers are too large'],
};
const BAD_REQUEST: [number, string, string, string] = [400, 'Bad Request', 'bad_request', 'malformed HTTP request'];

/** Fastify options: the request timeout (0: none), how often Node enforces it, and the API's answer to connection-level errors. */
export function slowClientOptions(
  requestTimeoutMs: number,
  log: Logger,
): { requestTimeout: number; http: ServerOptions; clientErrorHandler: (error: ClientError, socket: Socket) => void } {
  return {
    requestTimeout: requestTimeoutMs,
    http: requestTimeoutMs > 0 ? { connectionsCheckingInterval: checkIntervalMs(requestTimeoutMs), headersTimeout: Math.min(60_000, requestTimeoutMs) } : {},
    clientErrorHandler: (error: ClientError, socket: Socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, reason, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? BAD_REQUEST;
      const body: ApiErrorBody = {
        code,
        message: code === 'request_timeout' ? `${message}: the limit is ${requestTimeoutMs} ms` : message,
        requestId: randomUUID(),
      };
      log.debug({ code, requestId: body.requestId, remoteAddress: socket.remoteAddress }, 'client connection cut');
      // Only where no response has begun on this socket: a status line mid-response would corrupt it.
      if (socket.writable && !responseStarted(socket)) {
        const text = JSON.stringify(body);
        socket.write(
          `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
        );
      }
      socket.destroy(error);
    },
  };
}

/** 100 Continue once the onRequest hooks have passed (preParsing), instead of Node's at once. */
export function registerExpectContinue(app: FastifyInstance): void {
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (/^100-continue$/i.test(request.headers.expect ?? '')) reply.raw.writeContinue();
    done(null, payload);
  });
}

/** Node's own check (_http_server.js, socketOnError): the response in flight on the socket has sent its headers. */
function responseStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return inFlight?.headersSent === true;
}
