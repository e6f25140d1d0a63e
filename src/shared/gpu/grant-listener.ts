// Hears, on a channel of this manager's own, that the ledger handed over memory a request was
// waiting for: the release (or expiry) that freed it granted the lease in the same script, so
// no memory sits unreserved between one job and the next. One subscriber connection, made on
// first use. A grant that is missed (Redis restarted, the connection dropped) is still found when
// the waiter withdraws at its deadline.
import type { Logger } from '../logger.js';
import { closeRedis, duplicateRedis, type RedisClient } from '../redis.js';

export interface PendingGrant {
  /** True once the lease is granted; false when the wait ran out or was cancelled. */
  readonly heard: Promise<boolean>;
  /** Stops waiting now (heard resolves false unless the grant came first). */
  readonly cancel: () => void;
}

export class GrantListener {
  private readonly pending = new Map<string, (granted: boolean) => void>();
  private subscriber: RedisClient | undefined;
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    readonly channel: string,
    private readonly log: Logger,
  ) {}

  /** Subscribes once; requests queue only after this resolves, so no grant is published unheard. */
  ready(): Promise<void> {
    if (!this.subscriber) {
      this.subscriber = duplicateRedis(this.redis, 'voxq-gpu-grants');
      this.subscriber.on('error', (error: unknown) => this.log.debug({ err: error }, 'gpu grant subscription error'));
      this.subscriber.on('message', (_channel: string, message: string) => {
        for (const leaseId of message.split('\n')) this.settle(leaseId, true);
      });
    }
    this.subscribed ??= this.subscriber.subscribe(this.channel).then(
      () => undefined,
      (error: unknown) => {
        this.subscribed = undefined;
        throw error;
      },
    );
    return this.subscribed;
  }

  wait(leaseId: string, waitMs: number): PendingGrant {
    let cancel = () => undefined as void;
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => this.settle(leaseId, false), waitMs);
      this.pending.set(leaseId, (granted) => {
        clearTimeout(timer);
        resolve(granted);
      });
      cancel = () => this.settle(leaseId, false);
    });
    return { heard, cancel };
  }

  /** Ends every wait (as not granted) and closes the connection. */
  async close(): Promise<void> {
    for (const leaseId of [...this.pending.keys()]) this.settle(leaseId, false);
    if (this.subscriber) await closeRedis(this.subscriber);
  }

  private settle(leaseId: string, granted: boolean): void {
    const resolve = this.pending.get(leaseId);
    if (!resolve) return;
    this.pending.delete(leaseId);
    resolve(granted);
  }
}
