// The one error type providers throw. Callers (the stage runner) read `retryable` and
// `retryAfterMs`, never the message text.

export type ProviderErrorKind =
  | 'rate_limited' // 429: retry after `retryAfterMs`
  | 'server' // 5xx: retry with backoff
  | 'timeout' // no answer in time: retry with backoff
  | 'connection' // could not reach the provider: retry with backoff
  | 'bad_request' // 4xx the input caused (bad audio, too large, unknown model): never retry
  | 'auth' // 401/403: never retry
  | 'unsupported' // the provider cannot do this (e.g. an LLM without transcription)
  | 'aborted'; // the caller aborted (barge-in)

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set(['rate_limited', 'server', 'timeout', 'connection']);

export interface ProviderErrorOptions {
  kind: ProviderErrorKind;
  provider: string;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { cause: options.cause });
    this.kind = options.kind;
    this.provider = options.provider;
    this.status = options.status;
    this.retryable = RETRYABLE.has(options.kind);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/** Maps an HTTP status to the kind of failure it means. */
export function kindFromStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** Parses a `retry-after` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
