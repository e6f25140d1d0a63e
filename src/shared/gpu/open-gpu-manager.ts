// Config → a GpuManager (inventory from VOXQ_GPUS or nvidia-smi, the ledger on REDIS_URL), and
// a worker process pinned to one card: CUDA_VISIBLE_DEVICES set before any model loads, the
// models' resident memory reserved, or a clear refusal.
import type { Config } from '../config.js';
import { VoxqError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { GpuCard, GpuInventory } from '../ports/gpu-manager.js';
import type { Metrics } from '../ports/metrics.js';
import { createRedis, redisTargetOf } from '../redis.js';
import { cudaVisibleDevices, selectGpus } from './gpu-selector.js';
import { createInventorySource, type GpuInventorySource } from './inventory-source.js';
import { ModelProfiles } from './model-profiles.js';
import { NvidiaSmiError } from './nvidia-smi-parser.js';
import { PinnedGpu, type PinnedModel } from './pinned-gpu.js';
import { RedisGpuManager } from './redis-gpu-manager.js';
import { SimulatedGpusError } from './simulated-inventory.js';

export interface OpenGpuManagerOptions {
  /** Default: a pino logger on stderr at VOXQ_LOG_LEVEL. */
  log?: Logger;
  /** Where reserved and free memory are reported as gauges. */
  metrics?: Metrics;
  /** Allocations that name no card go to this one. */
  pinnedUuid?: string;
  inventory?: GpuInventorySource;
}

/** The GpuManager for this host from config: VOXQ_GPUS (simulated) or nvidia-smi, the ledger on REDIS_URL. close() closes its connection. */
export function openGpuManager(config: Config, options: OpenGpuManagerOptions = {}): RedisGpuManager {
  return new RedisGpuManager({
    redis: createRedis(redisTargetOf(config), 'producer', 'voxq-gpu'),
    prefix: config.VOXQ_PREFIX,
    inventory: options.inventory ?? createInventorySource({ simulated: config.VOXQ_GPUS, hostId: config.VOXQ_HOST_ID }),
    profiles: new ModelProfiles(config.VOXQ_GPU_PROFILES),
    leaseTtlMs: config.VOXQ_GPU_LEASE_TTL_MS,
    log: options.log ?? createLogger('voxq-gpu', config.VOXQ_LOG_LEVEL),
    ownsConnection: true,
    ...(options.pinnedUuid !== undefined ? { pinnedUuid: options.pinnedUuid } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}

/** Reads the inventory, turning nvidia-smi's and VOXQ_GPUS's failures into a VoxqError. */
export async function readInventory(source: GpuInventorySource): Promise<GpuInventory> {
  try {
    return await source.read();
  } catch (error) {
    if (error instanceof NvidiaSmiError) throw new VoxqError(`gpu_${error.failure}`, error.message);
    if (error instanceof SimulatedGpusError) throw new VoxqError('gpu_simulated_invalid', error.message);
    throw error;
  }
}

/** The cards `--gpu` names. */
export async function resolveGpuSelector(config: Config, selector: string): Promise<GpuCard[]> {
  return selectGpus(selector, await readInventory(createInventorySource({ simulated: config.VOXQ_GPUS, hostId: config.VOXQ_HOST_ID })));
}

/** Pins this process to one card and reserves its models' resident memory (or throws why not). */
export async function pinProcessToGpu(config: Config, card: GpuCard, models: PinnedModel[], options: { log: Logger; metrics?: Metrics }): Promise<PinnedGpu> {
  process.env.CUDA_VISIBLE_DEVICES = cudaVisibleDevices(card);
  const manager = openGpuManager(config, { ...options, pinnedUuid: card.uuid });
  options.log.info(
    { gpuIndex: card.index, gpuUuid: card.uuid, gpuName: card.name, simulated: card.simulated, cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES },
    'worker pinned to gpu',
  );
  try {
    const pinned = await PinnedGpu.pin({ card, manager, profiles: new ModelProfiles(config.VOXQ_GPU_PROFILES), models, log: options.log, waitMs: config.VOXQ_GPU_WAIT_MS });
    await manager.publish();
    return pinned;
  } catch (error) {
    await manager.close();
    throw error;
  }
}
