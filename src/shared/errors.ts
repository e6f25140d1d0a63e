// Errors that name the problem for the people who hit them. `code` is machine-readable.

export class VoxqError extends Error {
  override readonly name: string = 'VoxqError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The caller's input is wrong (bad audio, empty text, wrong type); retrying will not help. */
export class InputError extends VoxqError {
  override readonly name = 'InputError';
}

export class NotFoundError extends VoxqError {
  override readonly name = 'NotFoundError';
}

/** The request contradicts what already exists (a turn id reused for a different request). */
export class ConflictError extends VoxqError {
  override readonly name = 'ConflictError';
}

export class TimeoutError extends VoxqError {
  override readonly name = 'TimeoutError';
}

/**
 * Redis or MongoDB did not answer (down, restarting, electing a primary): nothing about the
 * call itself. Codes `redis_unavailable` and `database_unavailable`; retrying later is safe
 * (enqueueTurn with the same turnId is idempotent).
 */
export class UnavailableError extends VoxqError {
  override readonly name = 'UnavailableError';
}
