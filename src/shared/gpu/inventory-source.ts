// Where the GPU inventory comes from: nvidia-smi on a host with a driver, VOXQ_GPUS elsewhere.
// Cards are named by the machine's host id (VOXQ_HOST_ID, else the machine id, else the hostname).
import type { GpuInventory } from '../ports/gpu-manager.js';
import { resolveHostId } from './host-id.js';
import { NvidiaSmiInventory } from './nvidia-smi-inventory.js';
import { SimulatedInventory } from './simulated-inventory.js';

export interface GpuInventorySource {
  read(): Promise<GpuInventory>;
}

/** VOXQ_GPUS set → the simulated inventory; otherwise nvidia-smi. `hostId`: VOXQ_HOST_ID. */
export function createInventorySource(options: { simulated?: string | undefined; hostId?: string | undefined }): GpuInventorySource {
  const host = resolveHostId({ configured: options.hostId });
  return options.simulated !== undefined ? new SimulatedInventory(options.simulated, host) : new NvidiaSmiInventory({ host });
}
