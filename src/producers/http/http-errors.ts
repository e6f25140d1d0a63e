// Every error the API answers with: a status, a machine-readable `code`, a message for people,
// the request id — never a stack trace. Domain errors (InputError, NotFoundError) keep their
// codes; fastify's and multipart's own errors are mapped to voxq codes here.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, InputError, NotFoundError, TimeoutError, UnavailableError, VoxqError } from '../../shared/errors.js';
import { asUnavailable } from '../../shared/infra-errors.js';
import type { Logger } from '../../shared/logger.js';

export interface ApiErrorBody {
  code: string;
  message: string;
  requestId: string;
}

/** An error the API raises itself with its HTTP status (auth, unsupported media, not ready), and headers to send with it. */
export class HttpError extends VoxqError {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

/** 429 with `retry-after` in whole seconds (at least 1). */
export function tooManyRequests(code: string, message: string, retryAfterMs: number): HttpError {
  return new HttpError(429, code, message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
}

/** Domain error codes that mean something other than 400. */
const STATUS_OF_CODE: Record<string, number> = { audio_too_large: 413 };

/** fastify and @fastify/multipart error codes → status and voxq code. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_REQ_FILE_TOO_LARGE: [413, 'audio_too_large'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FIELDS_LIMIT: [413, 'too_many_fields'],
  FST_PROTO_VIOLATION: [400, 'invalid_multipart'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type'],
};

export function describeError(thrown: unknown): { status: number; code: string; message: string } {
  const error = asUnavailable(thrown);
  if (error instanceof HttpError) return { status: error.statusCode, code: error.code, message: error.message };
  if (error instanceof UnavailableError) return { status: 503, code: error.code, message: error.message };
  if (error instanceof InputError) return { status: STATUS_OF_CODE[error.code] ?? 400, code: error.code, message: error.message };
  if (error instanceof NotFoundError) return { status: 404, code: error.code, message: error.message };
  if (error instanceof ConflictError) return { status: 409, code: error.code, message: error.message };
  if (error instanceof TimeoutError) return { status: 504, code: error.code, message: error.message };
  const fastifyError = error as Partial<FastifyError> & { statusCode?: number };
  const mapped = fastifyError.code ? FRAMEWORK_ERRORS[fastifyError.code] : undefined;
  if (mapped) return { status: mapped[0], code: mapped[1], message: fastifyError.message ?? mapped[1] };
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return { status: 400, code: 'invalid_json', message: error.message };
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, code: 'bad_request', message: fastifyError.message ?? 'bad request' };
  return { status: 500, code: 'internal', message: 'internal error: the server logged it under this request id' };
}

/** The API's error handler: logs server errors with their stack, answers with the body only. */
export function errorHandler(log: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, code, message } = describeError(error);
    if (status >= 500) log.error({ err: error, requestId: request.id, route: request.routeOptions.url }, 'request failed');
    if (error instanceof HttpError) void reply.headers(error.headers);
    if (status === 503 && !(error instanceof HttpError)) void reply.header('retry-after', '5');
    return sendError(reply, status, code, message);
  };
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ApiErrorBody = { code, message, requestId: reply.request.id };
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}
