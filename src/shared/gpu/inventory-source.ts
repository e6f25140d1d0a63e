// Where the GPU inventory comes from: nvidia-smi on a host with a driver, VOXQ_GPUS elsewhere.
import { hostname } from 'node:os';
import type { GpuInventory } from '../ports/gpu-manager.js';
import { NvidiaSmiInventory } from './nvidia-smi-inventory.js';
import { SimulatedInventory } from './simulated-inventory.js';

export interface GpuInventorySource {
  read(): Promise<GpuInventory>;
}

/** VOXQ_GPUS set → the simulated inventory; otherwise nvidia-smi. */
export function createInventorySource(options: { simulated?: string | undefined; host?: string }): GpuInventorySource {
  const host = options.host ?? hostname();
  return options.simulated !== undefined ? new SimulatedInventory(options.simulated, host) : new NvidiaSmiInventory({ host });
}
