// The GpuManager port on an inventory (nvidia-smi or simulated) and the Redis reservation ledger.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../redis.js';
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
import { GrantListener } from './grant-listener.js';
import { HeldLease, LeaseRenewer, type RenewOutcome } from './gpu-lease.js';
import type { GpuInventorySource } from './inventory-source.js';
import type { ModelProfiles } from './model-profiles.js';
import { recommendBackend } from './recommended-backend.js';
import { isResidentOf } from './resident-lease.js';
import { ReservationLedger, type LedgerAllocateRequest, type LedgerCardState } from './reservation-ledger.js';

export interface RedisGpuManagerOptions {
  redis: RedisClient;
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

/** A request waiting on its card's list (RedisGpuManager.allocateOrQueue). */
export interface QueuedAllocation {
  ok: false;
  code: 'queued';
  reason: string;
  freeMb: number;
  /** The lease once a release hands the memory over; insufficient_memory when the wait ran out or was cancelled. */
  granted: Promise<AllocateResult>;
  /** Stops waiting now (granted still settles, with the lease if it came first). */
  cancel: () => void;
}

/**
 * The ledger keeps a waiting request this much longer than its holder waits, so the holder's
 * withdrawal (late timers, a round trip) still finds it and takes memory that came back meanwhile.
 * A holder that died is dropped from the list after waitMs plus this.
 */
const WITHDRAW_MARGIN_MS = 1000;

export const GPU_RESERVED_GAUGE = 'voxq.gpu.reserved_mb';
export const GPU_FREE_GAUGE = 'voxq.gpu.free_mb';

/** The GpuManager on an inventory (nvidia-smi or VOXQ_GPUS) and a Redis reservation ledger shared by every host; build it with openGpuManager(config). */
export class RedisGpuManager implements GpuManager {
  readonly ledger: ReservationLedger;
  private readonly renewer: LeaseRenewer;
  private readonly grants: GrantListener;
  /** Waits still settling (close() lets them finish so no granted lease is left behind). */
  private readonly waits = new Set<Promise<AllocateResult>>();
  private closed: Promise<void> | undefined;
  /** Other host ids already warned of (see warnOfOtherHostIds). */
  private readonly warnedHostIds = new Set<string>();

  constructor(private readonly options: RedisGpuManagerOptions) {
    this.ledger = new ReservationLedger(options.redis, options.prefix);
    this.grants = new GrantListener(options.redis, this.ledger.grantChannel(hostname(), randomBytes(4).toString('hex')), options.log);
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
      const info = leaseInfo(serviceId, card, requiredMb);
      const result = await this.ledger.allocate(this.ledgerRequest(info, card, inventory));
      this.gauges(card, result.reservedMb, result.foreignMb);
      if (result.ok) return { ok: true, lease: this.hold(info) };
      bestFreeMb = Math.max(bestFreeMb, card.totalMb - result.foreignMb - result.reservedMb);
    }
    const where = cards.length === 1 ? `GPU ${cards[0]?.index} (${cards[0]?.uuid})` : `any of ${cards.length} GPUs`;
    return { ok: false, code: 'insufficient_memory', reason: `${requiredMb} MB does not fit on ${where}: ${bestFreeMb} MB free`, freeMb: Math.max(0, bestFreeMb) };
  }

  /** Opens what waiting for memory needs (a subscription for grants) now rather than on a job's first wait. */
  async readyToQueue(): Promise<void> {
    await this.grants.ready();
  }

  /**
   * Like allocate, on one card (gpuUuid, else the pinned one), but when the card is short the
   * request waits on its list for up to waitMs: the release that frees the memory hands it over
   * in the same script (first fit, oldest first; after strictAfterMs, default waitMs / 2, nothing
   * is served before it). One round trip either way; the wait is `granted`.
   */
  async allocateOrQueue(
    serviceId: string,
    requiredMb: number,
    options: { gpuUuid?: string; waitMs: number; strictAfterMs?: number },
  ): Promise<AllocateResult | QueuedAllocation> {
    const wanted = options.gpuUuid ?? this.options.pinnedUuid;
    const plain = () => this.allocate(serviceId, requiredMb, wanted === undefined ? {} : { gpuUuid: wanted });
    if (options.waitMs <= 0 || wanted === undefined || this.closed) return plain();
    try {
      await this.grants.ready();
    } catch (error) {
      this.options.log.warn({ err: error }, 'gpu grant subscription failed: allocating without waiting');
      return plain();
    }
    const inventory = await this.options.inventory.read();
    const card = inventory.cards.find((c) => c.uuid === wanted);
    if (!card) return plain();
    const info = leaseInfo(serviceId, card, requiredMb);
    const queue = {
      waitMs: options.waitMs + WITHDRAW_MARGIN_MS,
      strictAfterMs: options.strictAfterMs ?? Math.floor(options.waitMs / 2),
      channel: this.grants.channel,
    };
    // Listening before asking: the grant can be published before the reply to this call is read.
    const pending = this.grants.wait(info.id, options.waitMs);
    const result = await this.ledger.allocate({ ...this.ledgerRequest(info, card, inventory), queue }).catch((error: unknown) => {
      pending.cancel();
      throw error;
    });
    if (!result.queued) pending.cancel();
    this.gauges(card, result.reservedMb, result.foreignMb);
    if (result.ok) return { ok: true, lease: this.hold(info) };
    const freeMb = Math.max(0, card.totalMb - result.foreignMb - result.reservedMb);
    const reason = `${requiredMb} MB does not fit on GPU ${card.index} (${card.uuid}): ${freeMb} MB free`;
    if (!result.queued) return { ok: false, code: 'insufficient_memory', reason, freeMb };
    const granted = (async (): Promise<AllocateResult> => {
      // Not heard (the wait ran out, was cancelled, or the notice was lost): withdrawing says whether it was granted after all.
      // If Redis cannot say, the job goes back; a lease granted meanwhile is never renewed, so it expires.
      const withdraw = () =>
        this.ledger.withdraw(card, info.id).catch((error: unknown) => {
          this.options.log.warn({ leaseId: info.id, err: error }, 'gpu wait withdrawal failed; a lease granted meanwhile expires on its own');
          return false;
        });
      if ((await pending.heard) || (await withdraw())) return { ok: true, lease: this.hold(info) };
      return { ok: false, code: 'insufficient_memory', reason: `${reason}, and none freed within ${options.waitMs} ms`, freeMb };
    })();
    this.waits.add(granted);
    void granted.finally(() => this.waits.delete(granted)).catch(() => undefined);
    return { ok: false, code: 'queued', reason, freeMb, granted, cancel: pending.cancel };
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
        const usage = usageOf(card, inventory, await this.ledger.cardState(card, this.options.leaseTtlMs));
        this.gauges(card, usage.reservedMb, usage.foreignMb);
        return usage;
      }),
    );
  }

  /**
   * Another card of this host (not `exceptUuid`) that a live worker of `service` is pinned to
   * (its resident lease) and that has `requiredMb` free with no request waiting on it, if any.
   */
  async roomOnAnotherCard(service: string, requiredMb: number, exceptUuid: string): Promise<GpuMemoryUsage | undefined> {
    const inventory = await this.options.inventory.read();
    for (const card of inventory.cards) {
      if (card.uuid === exceptUuid) continue;
      const state = await this.ledger.cardState(card, this.options.leaseTtlMs);
      if (state.waiting > 0 || !state.leases.some((l) => isResidentOf(l.meta.serviceId, service))) continue;
      const usage = usageOf(card, inventory, state);
      if (usage.freeMb >= requiredMb) return usage;
    }
    return undefined;
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
    await this.warnOfOtherHostIds(inventory);
    return usage;
  }

  /**
   * A real card (its uuid is the driver's, unique in the world) that another host id published
   * lately is this box's card under two names: containers of one box that do not share its host
   * id, each keeping a ledger of its own. Said once per other id.
   */
  private async warnOfOtherHostIds(inventory: GpuInventory): Promise<void> {
    const mine = new Set(inventory.cards.filter((c) => !c.simulated).map((c) => c.uuid));
    if (mine.size === 0) return;
    const recentMs = Math.max(60_000, 3 * this.options.leaseTtlMs);
    for (const record of await this.ledger.publishedCards()) {
      const { host, uuid, seenAt } = record;
      if (typeof uuid !== 'string' || !mine.has(uuid) || host === inventory.host || typeof host !== 'string') continue;
      if (typeof seenAt !== 'number' || Date.now() - seenAt > recentMs || this.warnedHostIds.has(host)) continue;
      this.warnedHostIds.add(host);
      this.options.log.warn(
        { gpuUuid: uuid, hostId: inventory.host, otherHostId: host },
        'gpu card published under another host id: containers sharing a GPU box must all set its VOXQ_HOST_ID (or mount its /etc/machine-id)',
      );
    }
  }

  /** Stops renewing and releases what this process holds (a graceful exit frees memory at once). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.grants.close();
      await Promise.allSettled([...this.waits]);
      await this.renewer.stop();
      await Promise.allSettled(this.renewer.leases().map((l) => l.release()));
      if (this.options.ownsConnection) await closeRedis(this.options.redis);
    })();
    return this.closed;
  }

  private async renew(lease: HeldLease): Promise<RenewOutcome> {
    const inventory = await this.options.inventory.read();
    const card = inventory.cards.find((c) => c.uuid === lease.gpuUuid);
    if (!card) return 'lost';
    const result = await this.ledger.allocate({ ...this.ledgerRequest(lease.info, card, inventory), renew: true });
    if (!result.ok) return 'lost';
    return result.existed ? 'renewed' : 'rebuilt';
  }

  private ledgerRequest(info: GpuLeaseInfo, card: GpuCard, inventory: GpuInventory): LedgerAllocateRequest {
    return {
      card,
      leaseId: info.id,
      requiredMb: info.requiredMb,
      totalMb: card.totalMb,
      ttlMs: this.options.leaseTtlMs,
      meta: { serviceId: info.serviceId, gpuIndex: card.index, hostname: hostname() },
      pid: process.pid,
      usedMb: usedOn(inventory, card),
    };
  }

  /** A lease the ledger granted: renewed from now on until released. */
  private hold(info: GpuLeaseInfo): HeldLease {
    const lease = new HeldLease(info, (l) => this.releaseLease(l));
    this.renewer.add(lease);
    return lease;
  }

  private async releaseLease(lease: HeldLease): Promise<void> {
    this.renewer.remove(lease.id);
    const { reservedMb } = await this.ledger.release({ host: lease.host, uuid: lease.gpuUuid }, lease.id);
    const inventory = await this.options.inventory.read().catch(() => undefined);
    const card = inventory?.cards.find((c) => c.uuid === lease.gpuUuid);
    if (card && inventory) this.gauges(card, reservedMb, Math.max(0, (usedOn(inventory, card) ?? 0) - reservedMb));
  }

  private gauges(card: GpuCard, reservedMb: number, foreignMb: number): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const tags = { host: card.host, gpu_uuid: card.uuid, gpu_index: card.index };
    metrics.gauge(GPU_RESERVED_GAUGE, reservedMb, tags);
    metrics.gauge(GPU_FREE_GAUGE, Math.max(0, card.totalMb - foreignMb - reservedMb), tags);
  }
}

/** Lease ids: `service:pid:<this process's random tag><count>`, unique without a random draw each. */
const LEASE_TAG = randomBytes(6).toString('hex');
let leaseCount = 0;

function leaseInfo(serviceId: string, card: GpuCard, requiredMb: number): GpuLeaseInfo {
  leaseCount += 1;
  const id = `${serviceId}:${process.pid}:${LEASE_TAG}${leaseCount.toString(36)}`;
  return { id, serviceId, host: card.host, gpuUuid: card.uuid, gpuIndex: card.index, requiredMb, pid: process.pid };
}

/**
 * What the card uses, voxq included: nvidia-smi's memory.used, else (when it says [N/A]) the sum
 * of its compute processes' memory, else unknown. No pid is matched against anything.
 */
export function usedOn(inventory: GpuInventory, card: GpuCard): number | null {
  if (card.usedMb !== null) return card.usedMb;
  const known = inventory.processes.filter((p) => p.gpuUuid === card.uuid && p.usedMb !== null);
  return known.length > 0 ? known.reduce((sum, p) => sum + (p.usedMb ?? 0), 0) : null;
}

/**
 * free = total − foreign − voxq's reservations, where foreign = used − reservations (never below
 * 0), or the highest such reading of the last lease TTL (the ledger's rule, see FOREIGN).
 */
export function usageOf(card: GpuCard, inventory: GpuInventory, state: Pick<LedgerCardState, 'leases' | 'heldForeignMb'>): GpuMemoryUsage {
  const reservedMb = state.leases.reduce((sum, l) => sum + l.mb, 0);
  const used = usedOn(inventory, card);
  const foreignMb = Math.max(used === null ? 0 : Math.max(0, used - reservedMb), state.heldForeignMb ?? 0);
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
