// The active OpenTelemetry context, kept for the synchronous extent of `context.with()` only.
//
// The SDK's default context manager follows a context across awaits with AsyncLocalStorage,
// which on Node 20 installs a promise hook that runs for every promise the process creates
// (BullMQ's, ioredis's, ours): measured on the spine benchmark it is more than half of what
// tracing costs a turn. voxq never relies on that propagation: the stage runner, the SDK, the
// API and the service client capture the context where a turn's work starts and hand it on by
// hand (span-helpers.ts takes it as an argument; StageQueues.add takes the parent). BullMQ reads
// the active context synchronously when a job is added or taken, which this manager serves.
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

export class SyncContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...args: unknown[]) => unknown;
    const bound = (...args: unknown[]): unknown => this.with(ctx, () => fn(...args));
    return bound as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
