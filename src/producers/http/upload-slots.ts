// Audio uploads in flight in this API process, capped, so the memory upload buffers hold stays
// under maxUploads × the largest upload (25 MiB each). A slot is taken once the caller is
// authenticated, before any of the body is read, and given back when the response closes
// (answered, failed, or the client gone). An upload over the cap answers 503 `too_many_uploads`
// with `retry-after`; a client that sent `Expect: 100-continue` gets it without sending the body
// (slow-clients.ts sends 100 Continue only to the requests let through).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './http-errors.js';

/** Uploads are short: a slot frees within a request's time, so a second is the wait to suggest. */
const RETRY_AFTER_S = 1;

export class UploadSlots {
  #inFlight = 0;

  constructor(readonly maxUploads: number) {}

  /**
   * A route's onRequest hook (after authentication): a multipart request takes a slot until its
   * response closes, or is answered 503 at the cap. Answered here, not thrown: a refusal is load,
   * not a server error to log.
   */
  readonly hook = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!/^multipart\//i.test(request.headers['content-type'] ?? '')) return undefined;
    if (this.#inFlight >= this.maxUploads) {
      void reply.header('retry-after', String(RETRY_AFTER_S));
      return sendError(
        reply,
        503,
        'too_many_uploads',
        `this API instance is receiving ${this.maxUploads} uploads already: retry after ${RETRY_AFTER_S} s, or send the turn to another instance`,
      );
    }
    this.#inFlight += 1;
    reply.raw.once('close', () => {
      this.#inFlight -= 1;
    });
    return undefined;
  };
}
