// What groq-sdk and openai share: both are generated from the same template, with the same error
// classes under different names. One classifier for both, by class and HTTP status; never by
// message text. Each provider passes its SDK's classes (groq-errors.ts, openai-errors.ts).
import { kindFromStatus, parseRetryAfterMs, ProviderError, type ProviderErrorKind } from './provider-error.js';

type ErrorClass<T extends Error = Error> = abstract new (...args: never[]) => T;

interface SdkApiError extends Error {
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
}

/** An SDK's error classes. */
export interface SdkErrorClasses {
  /** The SDK's root error (GroqError, OpenAIError): raised before any request for bad arguments. */
  base: ErrorClass;
  /** Any HTTP error (and, without a status, an error object inside an SSE stream). */
  api: ErrorClass<SdkApiError>;
  connection: ErrorClass;
  /** A subclass of `connection`. */
  connectionTimeout: ErrorClass;
  userAbort: ErrorClass;
}

/** The wait a response asks for: `retry-after-ms` (milliseconds) wins over `retry-after` (seconds or an HTTP date). */
export function retryAfterFromHeaders(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  return parseRetryAfterMs(headers.get('retry-after'), now);
}

function isAbortLike(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/**
 * Classifies anything an SDK call threw. `signal` is the caller's: an error that surfaces after
 * the caller aborted is an abort, whatever the SDK made of it.
 */
export function classifySdkError(
  error: unknown,
  sdk: SdkErrorClasses,
  provider: string,
  signal?: AbortSignal,
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof sdk.userAbort || signal?.aborted === true || isAbortLike(error)) {
    return new ProviderError(`${provider}: call aborted`, { kind: 'aborted', provider, cause: error });
  }
  // The timeout class extends the connection class: test it first.
  if (error instanceof sdk.connectionTimeout) {
    return new ProviderError(`${provider}: no answer in time`, { kind: 'timeout', provider, cause: error });
  }
  if (error instanceof sdk.connection) {
    return new ProviderError(`${provider}: could not reach the API`, { kind: 'connection', provider, cause: error });
  }
  if (error instanceof sdk.api) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    // An error without a status arrived inside an SSE stream: the server gave up mid-answer.
    const kind: ProviderErrorKind = status === undefined ? 'server' : kindFromStatus(status);
    const headers = error.headers instanceof Headers ? error.headers : undefined;
    const label = status === undefined ? 'stream error' : `HTTP ${status}`;
    return new ProviderError(`${provider}: ${label} (${kind})`, {
      kind,
      provider,
      status,
      retryAfterMs: retryAfterFromHeaders(headers),
      cause: error,
    });
  }
  if (error instanceof sdk.base) {
    // Raised by the SDK before any request (bad arguments, missing key).
    return new ProviderError(`${provider}: the client rejected the request`, { kind: 'bad_request', provider, cause: error });
  }
  // Anything else (a body that is not JSON, a reset socket mid-stream): treat as a server fault.
  return new ProviderError(`${provider}: unexpected failure`, { kind: 'server', provider, cause: error });
}
