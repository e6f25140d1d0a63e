// Cancel, fanned out to every worker process: BullMQ cancels an active job only inside the
// worker that holds it, so each worker process subscribes here and aborts the signals of its
// own active jobs of a cancelled turn (their provider requests abort with them). Pub/sub is
// at-most-once, which is enough: the end claim in the turn's state is the fence every job
// checks before provider work and before it records or hands on (src/shared/live/live-turns.ts).
import type { RedisClient } from '../redis.js';
import { cancelChannel } from './live-keys.js';

export class CancelPublisher {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Tells every worker process to abort the turn's active jobs; resolves with how many processes heard it. */
  async publish(turnId: string): Promise<number> {
    return this.redis.publish(cancelChannel(this.prefix), turnId);
  }
}

/** The active jobs of this process by turn, each with the controller that aborts it. */
export class ActiveTurns {
  private readonly active = new Map<string, Set<AbortController>>();

  /** Registers a job's controller; call the returned function when the job ends. */
  register(turnId: string, controller: AbortController): () => void {
    let set = this.active.get(turnId);
    if (!set) {
      set = new Set();
      this.active.set(turnId, set);
    }
    set.add(controller);
    return () => {
      set.delete(controller);
      if (set.size === 0) this.active.delete(turnId);
    };
  }

  /** Aborts every active job of the turn here; how many there were. */
  cancel(turnId: string): number {
    const set = this.active.get(turnId);
    if (!set) return 0;
    for (const controller of set) controller.abort(new CancelledError(turnId));
    return set.size;
  }

  /** Aborts every active job of this process with `reason` (a shutdown hands them back). */
  abortAll(reason: Error): number {
    let count = 0;
    for (const set of this.active.values()) {
      for (const controller of set) {
        controller.abort(reason);
        count += 1;
      }
    }
    return count;
  }

  get size(): number {
    return this.active.size;
  }
}

/** The reason a cancelled job's signal carries. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(readonly turnId: string) {
    super(`turn ${turnId} was cancelled`);
  }
}

/** Subscribes a connection (subscriber mode) to cancels and aborts the matching active jobs. */
export class CancelListener {
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly active: ActiveTurns,
  ) {
    redis.on('message', (channel: string, turnId: string) => {
      if (channel === cancelChannel(prefix)) this.active.cancel(turnId);
    });
  }

  start(): Promise<unknown> {
    this.ready ??= this.redis.subscribe(cancelChannel(this.prefix));
    return this.ready;
  }
}
