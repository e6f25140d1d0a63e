// Which request bodies a route accepts: JSON everywhere, multipart only where audio is uploaded.
import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';

export function rejectMultipart(request: FastifyRequest): void {
  if (request.isMultipart()) throw new HttpError(415, 'unsupported_media_type', 'this endpoint takes application/json');
}
