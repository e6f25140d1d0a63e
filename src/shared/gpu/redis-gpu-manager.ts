// The GpuManager port on an inventory (nvidia-smi or simulated) and the Redis reservation ledger.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type {
  AllocateResult,
  BackendRecommendation,
  GpuCard,
  GpuInventory,
  GpuLeaseInfo,
  GpuManager,
  GpuMemoryUsage,
} from '../ports/gpu-manager.js';
import type { Metrics } from '../ports/metrics.js';
import { closeRedis } from '../redis.js';
import { HeldLease, LeaseRenewer, type RenewOutcome } from './gpu-lease.js';
import type { GpuInventorySource } from './inventory-source.js';
import type { ModelProfiles } from './model-profiles.js';
import { recommendBackend } from './recommended-backend.js';
import { ReservationLedger, type LedgerLease } from './reservation-ledger.js';

export interface RedisGpuManagerOptions {
  redis: Redis;
  prefix: string;
  inventory: GpuInventorySource;
  profiles: ModelProfiles;
  leaseTtlMs: number;
  /** Allocations without a card go here (a pinned worker's card). */
  pinnedUuid?: string;
  metrics?: Metrics;
  log: Logger;
  /** Close the Redis connection on close() (it was made for this manager). */
  ownsConnection?: boolean;
}

export const GPU_RESERVED_GAUGE = 'voxq.gpu.reserved_mb';
export const GPU_FREE_GAUGE = 'voxq.gpu.free_mb';

export class RedisGpuManager implements GpuManager {
  readonly ledger: ReservationLedger;
  private readonly renewer: LeaseRenewer;
  private readonly freed = new EventEmitter();
  private subscriber: Redis | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: RedisGpuManagerOptions) {
    this.ledger = new ReservationLedger(options.redis, options.prefix);
    this.renewer = new LeaseRenewer({
      intervalMs: Math.max(50, Math.floor(options.leaseTtlMs / 3)),
      renew: (lease) => this.renew(lease),
      afterRound: async () => {
        await this.publish();
      },
      log: options.log,
    });
  }

  get leaseTtlMs(): number {
    return this.options.leaseTtlMs;
  }

  async isAvailable(): Promise<boolean> {
    try {
      return (await this.options.inventory.read()).cards.length > 0;
    } catch {
      return false;
    }
  }

  info(): Promise<GpuInventory> {
    return this.options.inventory.read();
  }

  async allocate(serviceId: string, requiredMb: number, options: { gpuUuid?: string } = {}): Promise<AllocateResult> {
    const inventory = await this.options.inventory.read();
    if (inventory.cards.length === 0) return { ok: false, code: 'no_gpu', reason: 'no GPU on this host', freeMb: 0 };
    const wanted = options.gpuUuid ?? this.options.pinnedUuid;
    const cards = wanted === undefined ? inventory.cards : inventory.cards.filter((c) => c.uuid === wanted);
    if (cards.length === 0) return { ok: false, code: 'unknown_gpu', reason: `no GPU ${wanted} on ${inventory.host}`, freeMb: 0 };
    let bestFreeMb = 0;
    for (const card of cards) {
      const leaseId = `${serviceId}:${process.pid}:${randomBytes(6).toString('hex')}`;
      const info: GpuLeaseInfo = { id: leaseId, serviceId, host: card.host, gpuUuid: card.uuid, gpuIndex: card.index, requiredMb, pid: process.pid };
      const result = await this.ledger.allocate({
        card,
        leaseId,
        requiredMb,
        totalMb: card.totalMb,
        ttlMs: this.options.leaseTtlMs,
        meta: { serviceId, gpuIndex: card.index },
        pid: process.pid,
        processes: processesOn(inventory, card),
      });
      this.gauges(card, result.reservedMb, result.foreignMb);
      if (result.ok) {
        const lease = new HeldLease(info, (l) => this.releaseLease(l));
        this.renewer.add(lease);
        return { ok: true, lease };
      }
      bestFreeMb = Math.max(bestFreeMb, card.totalMb - result.foreignMb - result.reservedMb);
    }
    const where = cards.length === 1 ? `GPU ${cards[0]?.index} (${cards[0]?.uuid})` : `any of ${cards.length} GPUs`;
    return { ok: false, code: 'insufficient_memory', reason: `${requiredMb} MB does not fit on ${where}: ${bestFreeMb} MB free`, freeMb: Math.max(0, bestFreeMb) };
  }

  async release(leaseId: string): Promise<void> {
    const held = this.renewer.leases().find((l) => l.id === leaseId);
    if (held) return held.release();
    // Not ours (or already gone): look it up on this host's cards; releasing nothing is fine.
    const inventory = await this.options.inventory.read();
    for (const card of inventory.cards) await this.ledger.release(card, leaseId);
  }

  async memoryUsage(): Promise<GpuMemoryUsage[]> {
    const inventory = await this.options.inventory.read();
    return Promise.all(
      inventory.cards.map(async (card) => {
        const leases = await this.ledger.snapshot(card);
        const usage = usageOf(card, inventory, leases);
        this.gauges(card, usage.reservedMb, usage.foreignMb);
        return usage;
      }),
    );
  }

  async recommendedBackend(model: string): Promise<BackendRecommendation> {
    const usage = await this.memoryUsage().catch(() => []);
    const pinned = this.options.pinnedUuid;
    const cards = pinned === undefined ? usage : usage.filter((u) => u.uuid === pinned);
    return recommendBackend(model, this.options.profiles.find(model), cards);
  }

  async leases(): Promise<GpuLeaseInfo[]> {
    const inventory = await this.options.inventory.read();
    const all = await Promise.all(
      inventory.cards.map(async (card) =>
        (await this.ledger.snapshot(card)).map((l) => ({
          id: l.id,
          serviceId: typeof l.meta.serviceId === 'string' ? l.meta.serviceId : l.id,
          host: card.host,
          gpuUuid: card.uuid,
          gpuIndex: card.index,
          requiredMb: l.mb,
          pid: l.pid,
        })),
      ),
    );
    return all.flat();
  }

  /** Calls back when any process releases memory on this card (or on any card without one). */
  onFreed(listener: (host: string, uuid: string) => void): () => void {
    if (!this.subscriber) {
      this.subscriber = this.options.redis.duplicate({ connectionName: 'voxq-gpu-freed' });
      this.subscriber.on('message', (_channel: string, message: string) => {
        const [host = '', uuid = ''] = message.split('|');
        this.freed.emit('freed', host, uuid);
      });
      void this.subscriber.subscribe(this.ledger.freedChannel).catch((error: unknown) => this.options.log.warn({ err: error }, 'gpu freed subscription failed'));
    }
    this.freed.on('freed', listener);
    return () => this.freed.off('freed', listener);
  }

  /** One renewal round now (tests; the timer does it every ttl/3). */
  renewNow(): Promise<void> {
    return this.renewer.tick();
  }

  /** Publishes this host's cards (for `voxq gpus`) and their gauges. */
  async publish(): Promise<GpuMemoryUsage[]> {
    const inventory = await this.options.inventory.read();
    const usage = await this.memoryUsage();
    await Promise.all(
      inventory.cards.map((card, i) => this.ledger.publishCard(card, { ...card, ...usage[i], usedMb: card.usedMb })),
    );
    return usage;
  }

  /** Stops renewing and releases what this process holds (a graceful exit frees memory at once). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.renewer.stop();
      await Promise.allSettled(this.renewer.leases().map((l) => l.release()));
      if (this.subscriber) await closeRedis(this.subscriber);
      this.freed.removeAllListeners();
      if (this.options.ownsConnection) await closeRedis(this.options.redis);
    })();
    return this.closed;
  }

  private async renew(lease: HeldLease): Promise<RenewOutcome> {
    const inventory = await this.options.inventory.read();
    const card = inventory.cards.find((c) => c.uuid === lease.gpuUuid);
    if (!card) return 'lost';
    const result = await this.ledger.allocate({
      card,
      leaseId: lease.id,
      requiredMb: lease.requiredMb,
      totalMb: card.totalMb,
      ttlMs: this.options.leaseTtlMs,
      meta: { serviceId: lease.serviceId, gpuIndex: card.index },
      pid: process.pid,
      processes: processesOn(inventory, card),
    });
    if (!result.ok) return 'lost';
    return result.existed ? 'renewed' : 'rebuilt';
  }

  private async releaseLease(lease: HeldLease): Promise<void> {
    this.renewer.remove(lease.id);
    const { reservedMb } = await this.ledger.release({ host: lease.host, uuid: lease.gpuUuid }, lease.id);
    const inventory = await this.options.inventory.read().catch(() => undefined);
    const card = inventory?.cards.find((c) => c.uuid === lease.gpuUuid);
    if (card && inventory) this.gauges(card, reservedMb, foreignEstimate(inventory, card));
  }

  private gauges(card: GpuCard, reservedMb: number, foreignMb: number): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const tags = { host: card.host, gpu_uuid: card.uuid, gpu_index: card.index };
    metrics.gauge(GPU_RESERVED_GAUGE, reservedMb, tags);
    metrics.gauge(GPU_FREE_GAUGE, Math.max(0, card.totalMb - foreignMb - reservedMb), tags);
  }
}

function processesOn(inventory: GpuInventory, card: GpuCard): { pid: number; usedMb: number }[] {
  return inventory.processes.filter((p) => p.gpuUuid === card.uuid && p.usedMb !== null).map((p) => ({ pid: p.pid, usedMb: p.usedMb ?? 0 }));
}

/** Foreign memory without the ledger's pids: every process but this one (for gauges after release). */
function foreignEstimate(inventory: GpuInventory, card: GpuCard): number {
  return processesOn(inventory, card)
    .filter((p) => p.pid !== process.pid)
    .reduce((sum, p) => sum + p.usedMb, 0);
}

/** free = total − memory of processes that hold no lease (not voxq's) − voxq's reservations. */
export function usageOf(card: GpuCard, inventory: GpuInventory, leases: readonly LedgerLease[]): GpuMemoryUsage {
  const ownPids = new Set(leases.map((l) => l.pid));
  const foreignMb = processesOn(inventory, card)
    .filter((p) => !ownPids.has(p.pid))
    .reduce((sum, p) => sum + p.usedMb, 0);
  const reservedMb = leases.reduce((sum, l) => sum + l.mb, 0);
  return {
    host: card.host,
    index: card.index,
    uuid: card.uuid,
    totalMb: card.totalMb,
    foreignMb,
    reservedMb,
    freeMb: Math.max(0, card.totalMb - foreignMb - reservedMb),
    simulated: card.simulated,
  };
}
