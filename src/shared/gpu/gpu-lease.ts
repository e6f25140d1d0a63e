// Leases and their renewal. A lease lives `ttlMs` unless renewed; each process renews what it
// holds every ttl/3, so a SIGKILLed holder's memory comes back within the TTL. Renewal also
// rebuilds a lease Redis has lost (a restart without persistence) when it still fits; one that
// no longer fits is marked lost and dropped, never double-counted.
import type { Logger } from '../logger.js';
import type { GpuLease, GpuLeaseInfo } from '../ports/gpu-manager.js';

export class HeldLease implements GpuLease {
  lost = false;
  private released: Promise<void> | undefined;

  constructor(
    readonly info: GpuLeaseInfo,
    private readonly doRelease: (lease: HeldLease) => Promise<void>,
  ) {}

  get id(): string {
    return this.info.id;
  }
  get serviceId(): string {
    return this.info.serviceId;
  }
  get host(): string {
    return this.info.host;
  }
  get gpuUuid(): string {
    return this.info.gpuUuid;
  }
  get gpuIndex(): number {
    return this.info.gpuIndex;
  }
  get requiredMb(): number {
    return this.info.requiredMb;
  }
  get pid(): number {
    return this.info.pid;
  }

  release(): Promise<void> {
    this.released ??= this.doRelease(this).catch((error: unknown) => {
      this.released = undefined;
      throw error;
    });
    return this.released;
  }
}

export type RenewOutcome = 'renewed' | 'rebuilt' | 'lost';

export class LeaseRenewer {
  private readonly held = new Map<string, HeldLease>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly options: {
      intervalMs: number;
      renew: (lease: HeldLease) => Promise<RenewOutcome>;
      /** Runs after each round (metrics, card publishing). */
      afterRound?: () => Promise<void>;
      log: Logger;
    },
  ) {}

  add(lease: HeldLease): void {
    this.held.set(lease.id, lease);
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs).unref();
  }

  remove(leaseId: string): void {
    this.held.delete(leaseId);
  }

  leases(): HeldLease[] {
    return [...this.held.values()];
  }

  /** One renewal round (also called by tests). Rounds never overlap. */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    const { log } = this.options;
    await Promise.all(
      [...this.held.values()].map(async (lease) => {
        try {
          const outcome = await this.options.renew(lease);
          if (outcome === 'rebuilt') log.warn({ leaseId: lease.id, gpuUuid: lease.gpuUuid, requiredMb: lease.requiredMb }, 'gpu lease rebuilt in the ledger');
          if (outcome === 'lost') {
            lease.lost = true;
            this.held.delete(lease.id);
            log.error({ leaseId: lease.id, gpuUuid: lease.gpuUuid, requiredMb: lease.requiredMb }, 'gpu lease lost: it no longer fits after the ledger was lost');
          }
        } catch (error) {
          log.warn({ leaseId: lease.id, err: error }, 'gpu lease renewal failed, will retry');
        }
      }),
    );
    try {
      await this.options.afterRound?.();
    } catch (error) {
      log.debug({ err: error }, 'gpu renewal follow-up failed');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}
