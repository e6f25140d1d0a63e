// A worker process pinned to one card: it reserves each stage model's resident memory at start
// (refusing to start, with the reason, when it does not fit), and gives the stage runner a gate
// that reserves each job's working memory.
import type { Job, Worker } from 'bullmq';
import { VoxqError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GpuCard, GpuLease } from '../ports/gpu-manager.js';
import { JobMemoryGate } from './job-memory-gate.js';
import type { ModelProfile, ModelProfiles } from './model-profiles.js';
import type { RedisGpuManager } from './redis-gpu-manager.js';
import { residentServiceId } from './resident-lease.js';

export interface PinnedModel {
  /** The stage (or any service name) the model serves. */
  service: string;
  model: string;
  provider: string;
}

export class PinnedGpu {
  private readonly gate: JobMemoryGate;
  private closed: Promise<void> | undefined;

  private constructor(
    readonly card: GpuCard,
    readonly manager: RedisGpuManager,
    private readonly profiles: Map<string, ModelProfile>,
    private readonly resident: GpuLease[],
    log: Logger,
    waitMs: number | undefined,
  ) {
    this.gate = new JobMemoryGate({
      manager,
      gpuUuid: card.uuid,
      log,
      // A job short here goes to another card of this host that a worker of its stage holds, if one has room.
      roomElsewhere: async (service, requiredMb) => (await manager.roomOnAnotherCard(service, requiredMb, card.uuid)) !== undefined,
      ...(waitMs !== undefined ? { waitMs } : {}),
    });
  }

  /** Reserves every model's resident memory on the card, or throws a VoxqError saying why not. */
  static async pin(options: {
    card: GpuCard;
    manager: RedisGpuManager;
    profiles: ModelProfiles;
    models: PinnedModel[];
    log: Logger;
    /** How long a job waits on the card's list for memory before going back to the queue. */
    waitMs?: number;
  }): Promise<PinnedGpu> {
    const { card, manager, log } = options;
    const profiles = new Map<string, ModelProfile>();
    const resident: GpuLease[] = [];
    const releaseAll = () => Promise.allSettled(resident.map((l) => l.release()));
    for (const { service, model, provider } of options.models) {
      const profile = options.profiles.find(model, provider);
      if (!profile) {
        await releaseAll();
        throw new VoxqError('gpu_profile_missing', `no GPU memory profile for model ${model} (${service}): add it to VOXQ_GPU_PROFILES as ${model}:residentMb:jobMb`);
      }
      profiles.set(service, profile);
      // A model that needs no GPU memory at all holds nothing; one with only per-job memory holds 0 MB (the card serves its stage).
      if (profile.residentMb === 0 && profile.jobMb === 0) continue;
      const result = await manager.allocate(residentServiceId(service, model), profile.residentMb, { gpuUuid: card.uuid });
      if (!result.ok) {
        await releaseAll();
        throw new VoxqError('gpu_memory_short', `cannot load ${model} on GPU ${card.index} (${card.uuid}): it needs ${profile.residentMb} MB resident and ${result.reason}`);
      }
      resident.push(result.lease);
      log.info({ service, model, gpuUuid: card.uuid, gpuIndex: card.index, residentMb: profile.residentMb, jobMb: profile.jobMb }, 'gpu model memory reserved');
    }
    // Jobs that find the card short wait for memory to be handed over; be ready to hear of it.
    await manager.readyToQueue().catch((error: unknown) => log.warn({ err: error }, 'gpu grant subscription failed; will retry on the first wait'));
    return new PinnedGpu(card, manager, profiles, resident, log, options.waitMs);
  }

  /** Jobs this worker sent on to another card of the host that had room (see JobMemoryGate). */
  get handoffCount(): number {
    return this.gate.handoffCount;
  }

  /** Jobs put back in the queue after waiting out their wait for memory here. */
  get shortCount(): number {
    return this.gate.shortCount;
  }

  attach(worker: Worker): void {
    this.gate.attach(worker);
  }

  /** Reserves the job's working memory for this service, or puts the job back (DelayedError). */
  reserveForJob(job: Job, token: string | undefined, service: string): Promise<GpuLease | undefined> {
    const profile = this.profiles.get(service);
    return this.gate.reserve(job, token, `${service}:${profile?.model ?? 'unknown'}:job`, profile?.jobMb ?? 0, service);
  }

  /** Releases the resident memory and stops renewing (after the workers closed). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.gate.close();
      await Promise.allSettled(this.resident.map((l) => l.release()));
      await this.manager.close();
    })();
    return this.closed;
  }
}
