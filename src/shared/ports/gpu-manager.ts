// Seed: IGPUManager (is_available, get_gpu_info, get_memory_usage, allocate_memory(service_id,
// required_mb), get_recommended_backend(model)), plus release and leases. Cards are named by uuid:
// CUDA and nvidia-smi may number them differently.
import { conformsTo, type PortSpec } from './port-spec.js';

export interface GpuCard {
  host: string;
  /** nvidia-smi's index (PCI order); CUDA's order may differ. */
  index: number;
  uuid: string;
  name: string;
  totalMb: number;
  /** What nvidia-smi says is used (every process, voxq's included); null when it reports [N/A]. */
  usedMb: number | null;
  utilizationPct: number | null;
  migMode: 'enabled' | 'disabled' | null;
  /** From VOXQ_GPUS, not from a driver. */
  simulated: boolean;
  /** Set on a MIG device: a slice of a card in MIG mode, offered as a card of its own (`uuid` is its `MIG-…`). */
  mig?: MigSlice;
}

export interface MigSlice {
  /** The card it is a slice of. */
  parentUuid: string;
  /** The MIG profile, e.g. `3g.20gb`. */
  profile: string;
  /** Its MIG device number on the card (`nvidia-smi -L`'s "Device N"). */
  device: number;
  gpuInstanceId: number;
  computeInstanceId: number;
}

export interface GpuProcess {
  gpuUuid: string;
  pid: number;
  usedMb: number | null;
}

export interface GpuInventory {
  host: string;
  simulated: boolean;
  cards: GpuCard[];
  /** Compute processes on the cards (nvidia-smi --query-compute-apps); none when simulated. */
  processes: GpuProcess[];
  /** Cards the driver lists but cannot use (fallen off the bus, lost), in words. */
  problems: string[];
}

export interface GpuMemoryUsage {
  host: string;
  index: number;
  uuid: string;
  totalMb: number;
  /** Memory of compute processes that are not voxq's. */
  foreignMb: number;
  /** What voxq's live leases hold. */
  reservedMb: number;
  /** total − foreign − reserved (never below 0). */
  freeMb: number;
  simulated: boolean;
}

export interface GpuLeaseInfo {
  id: string;
  serviceId: string;
  host: string;
  gpuUuid: string;
  gpuIndex: number;
  requiredMb: number;
  pid: number;
}

export interface GpuLease extends GpuLeaseInfo {
  /** True once the ledger no longer holds it (Redis lost it and it no longer fits). */
  readonly lost: boolean;
  /** Idempotent. */
  release(): Promise<void>;
}

export type AllocateResult =
  | { ok: true; lease: GpuLease }
  | { ok: false; code: 'insufficient_memory' | 'unknown_gpu' | 'no_gpu'; reason: string; freeMb: number };

export interface BackendRecommendation {
  backend: 'cuda' | 'cpu';
  gpuUuid?: string;
  reason: string;
}

export interface GpuManager {
  isAvailable(): Promise<boolean>;
  info(): Promise<GpuInventory>;
  memoryUsage(): Promise<GpuMemoryUsage[]>;
  /** Atomic across processes and hosts; on the pinned card, else the first card it fits on. */
  allocate(serviceId: string, requiredMb: number, options?: { gpuUuid?: string }): Promise<AllocateResult>;
  /** Idempotent: releasing an unknown or expired lease does nothing. */
  release(leaseId: string): Promise<void>;
  recommendedBackend(model: string): Promise<BackendRecommendation>;
  /** Live leases on this host's cards. */
  leases(): Promise<GpuLeaseInfo[]>;
  close(): Promise<void>;
}

export const GPU_MANAGER_PORT: PortSpec = { name: 'GpuManager', methods: ['isAvailable', 'info', 'memoryUsage', 'allocate', 'release', 'recommendedBackend', 'leases', 'close'] };

/** The seed's isinstance check: every method of GpuManager is there. */
export function isGpuManager(value: unknown): value is GpuManager {
  return conformsTo(value, GPU_MANAGER_PORT);
}
