// What every fake provider shares: injectable latency and a queue of scripted failures
// (429 with retry-after, 5xx, timeout …), consumed one per call, in order.
import { setTimeout as delay } from 'node:timers/promises';
import { ProviderError, type ProviderErrorKind } from './provider-error.js';

export interface FakeFailure {
  kind: ProviderErrorKind;
  /** For `rate_limited`: what the fake's retry-after says. */
  retryAfterMs?: number;
  status?: number;
}

export interface FakeScriptOptions {
  /** Delay before each answer (ms). 0 answers without touching the timer queue. */
  latencyMs?: number;
  /** Failures thrown by the next calls, one per call, in order. */
  failures?: FakeFailure[];
}

const STATUS: Partial<Record<ProviderErrorKind, number>> = {
  rate_limited: 429,
  server: 503,
  timeout: 408,
  bad_request: 400,
  auth: 401,
};

export class FakeScript {
  latencyMs: number;
  private readonly failures: FakeFailure[];
  /** How many calls reached the fake (including failed ones). */
  calls = 0;

  constructor(private readonly provider: string, options: FakeScriptOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.failures = [...(options.failures ?? [])];
  }

  /** Queues failures for the next calls. */
  failNext(...failures: FakeFailure[]): void {
    this.failures.push(...failures);
  }

  /** Called at the start of every provider call: waits the latency, then throws a scripted failure if one is queued. */
  async step(signal?: AbortSignal): Promise<void> {
    this.calls += 1;
    if (signal?.aborted) throw this.aborted();
    if (this.latencyMs > 0) {
      try {
        await delay(this.latencyMs, undefined, signal ? { signal } : undefined);
      } catch {
        throw this.aborted();
      }
    }
    const failure = this.failures.shift();
    if (failure) {
      throw new ProviderError(`${this.provider}: scripted ${failure.kind} failure`, {
        kind: failure.kind,
        provider: this.provider,
        status: failure.status ?? STATUS[failure.kind],
        retryAfterMs: failure.retryAfterMs,
      });
    }
  }

  private aborted(): ProviderError {
    return new ProviderError(`${this.provider}: call aborted`, { kind: 'aborted', provider: this.provider });
  }
}
