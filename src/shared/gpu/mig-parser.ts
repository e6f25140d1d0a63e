// MIG: on a card in MIG mode each MIG device is a card of its own for voxq (its uuid `MIG-…`, its
// profile, its memory), and the card is never offered whole. nvidia-smi's --query-gpu does not
// list MIG devices, so a host with a MIG-enabled card also reads `nvidia-smi -L` (each device's
// uuid and profile, under its GPU) and plain `nvidia-smi` (the "MIG devices" table: each
// device's memory used / total). Pure functions over text, so fixtures test them.
import type { GpuCard } from '../ports/gpu-manager.js';
import { NvidiaSmiError } from './nvidia-smi-parser.js';

export const MIG_LIST_ARGS = ['-L'] as const;
/** Plain `nvidia-smi`: its "MIG devices" table has each MIG device's memory. */
export const MIG_TABLE_ARGS = [] as const;

export interface MigListedGpu {
  index: number;
  uuid: string;
  name: string;
  devices: { device: number; profile: string; uuid: string }[];
}

export interface MigMemoryRow {
  gpuIndex: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  device: number;
  usedMb: number;
  totalMb: number;
}

const GPU_LINE = /^GPU (\d+): (.+?) \(UUID: (GPU-[0-9A-Za-z-]+)\)\s*$/;
// `MIG 1g.5gb Device 0: (UUID: MIG-…)`; drivers before R470 wrote `MIG-GPU-<uuid>/<gi>/<ci>`.
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[0-9A-Za-z/-]+)\)\s*$/;
const TABLE_ROW = /^\|\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|\s*(\d+)MiB\s*\/\s*(\d+)MiB/;

/** Parses `nvidia-smi -L`: every GPU with its MIG devices (none for a card not in MIG mode). */
export function parseMigList(stdout: string): MigListedGpu[] {
  const gpus: MigListedGpu[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? '', uuid: gpu[3] ?? '', devices: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus.at(-1);
    if (mig && parent) {
      parent.devices.push({ profile: mig[1] ?? '', device: Number(mig[2]), uuid: mig[3] ?? '' });
      continue;
    }
    throw new NvidiaSmiError('garbled', `unexpected nvidia-smi -L output: ${line.trim().slice(0, 200)}`);
  }
  return gpus;
}

/** Parses the "MIG devices" table of plain `nvidia-smi` (no table: no row). */
export function parseMigTable(stdout: string): MigMemoryRow[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /\|\s*MIG devices:/.test(l));
  if (start < 0) return [];
  const rows: MigMemoryRow[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const row = TABLE_ROW.exec(line);
    if (!row) continue;
    const [gpuIndex, gpuInstanceId, computeInstanceId, device, usedMb, totalMb] = row.slice(1).map(Number) as [number, number, number, number, number, number];
    rows.push({ gpuIndex, gpuInstanceId, computeInstanceId, device, usedMb, totalMb });
  }
  return rows;
}

/**
 * Replaces each card in MIG mode by its MIG devices (never the card whole). A device the table
 * gives no memory for, and a card in MIG mode with no device, are problems, in words.
 */
export function expandMigCards(cards: readonly GpuCard[], listed: readonly MigListedGpu[], table: readonly MigMemoryRow[]): { cards: GpuCard[]; problems: string[] } {
  const out: GpuCard[] = [];
  const problems: string[] = [];
  for (const card of cards) {
    if (card.migMode !== 'enabled') {
      out.push(card);
      continue;
    }
    const devices = listed.find((g) => g.uuid === card.uuid)?.devices ?? [];
    if (devices.length === 0) problems.push(`GPU ${card.index} (${card.uuid}) is in MIG mode with no MIG device: voxq offers none of it`);
    for (const device of devices) {
      const memory = table.find((r) => r.gpuIndex === card.index && r.device === device.device);
      if (!memory) {
        problems.push(`MIG device ${card.index}:${device.device} (${device.uuid}) reports no memory; voxq cannot reserve on it`);
        continue;
      }
      out.push({
        host: card.host,
        index: card.index,
        uuid: device.uuid,
        name: `${card.name} MIG ${device.profile}`,
        totalMb: memory.totalMb,
        usedMb: memory.usedMb,
        utilizationPct: null,
        migMode: 'enabled',
        simulated: card.simulated,
        mig: { parentUuid: card.uuid, profile: device.profile, device: device.device, gpuInstanceId: memory.gpuInstanceId, computeInstanceId: memory.computeInstanceId },
      });
    }
  }
  return { cards: out, problems };
}
