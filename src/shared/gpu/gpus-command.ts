// `voxq gpus`: every GPU of the cluster (each host's cards as its workers last published them,
// this host's read now), with total/used/free MB and what voxq has reserved on it, for whom.
// Simulated cards (VOXQ_GPUS) say so; a card in MIG mode is listed as its MIG devices (GPU
// column `index:device`, the profile in the name), each with its own reservations.
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openGpuManager, readInventory } from './open-gpu-manager.js';
import { createInventorySource } from './inventory-source.js';
import type { ReservationLedger } from './reservation-ledger.js';

export interface GpuRow {
  host: string;
  index: number;
  uuid: string;
  name: string;
  simulated: boolean;
  /** Set for a MIG device: its profile, device number and the card it is a slice of. */
  mig: { profile: string; device: number; parentUuid: string } | null;
  totalMb: number;
  usedMb: number | null;
  freeMb: number;
  reservedMb: number;
  holders: { serviceId: string; pid: number; mb: number }[];
}

export async function runGpusCommand(options: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  const log = createLogger('voxq-gpus', config.VOXQ_LOG_LEVEL);
  const manager = openGpuManager(config, { log });
  let localProblem: string | undefined;
  try {
    try {
      const inventory = await readInventory(createInventorySource({ simulated: config.VOXQ_GPUS, hostId: config.VOXQ_HOST_ID }));
      // Cards the driver lists but voxq cannot offer (lost, a MIG card without devices) are said, not hidden.
      if (inventory.problems.length > 0) localProblem = inventory.problems.join('; ');
      await manager.publish();
    } catch (error) {
      localProblem = error instanceof Error ? error.message : String(error);
    }
    const rows = await gpuRows(manager.ledger);
    if (options.json) process.stdout.write(`${JSON.stringify({ gpus: rows, localProblem: localProblem ?? null })}\n`);
    else process.stdout.write(formatGpuTable(rows, localProblem));
  } finally {
    await manager.close();
  }
}

/** Every card any host published, with its live reservations, sorted by host, index and MIG device. */
export async function gpuRows(ledger: ReservationLedger): Promise<GpuRow[]> {
  const rows: GpuRow[] = [];
  for (const card of await ledger.publishedCards()) {
    const host = String(card.host);
    const uuid = String(card.uuid);
    const leases = await ledger.snapshot({ host, uuid });
    const reservedMb = leases.reduce((sum, l) => sum + l.mb, 0);
    const totalMb = Number(card.totalMb);
    const foreignMb = Number(card.foreignMb ?? 0);
    const mig = migOf(card.mig);
    rows.push({
      host,
      index: Number(card.index),
      uuid,
      name: String(card.name),
      simulated: card.simulated === true,
      mig,
      totalMb,
      usedMb: typeof card.usedMb === 'number' ? card.usedMb : null,
      freeMb: Math.max(0, totalMb - foreignMb - reservedMb),
      reservedMb,
      holders: leases.map((l) => ({ serviceId: typeof l.meta.serviceId === 'string' ? l.meta.serviceId : l.id, pid: l.pid, mb: l.mb })),
    });
  }
  return rows.sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index || (a.mig?.device ?? -1) - (b.mig?.device ?? -1));
}

function migOf(value: unknown): GpuRow['mig'] {
  if (typeof value !== 'object' || value === null) return null;
  const { profile, device, parentUuid } = value as Record<string, unknown>;
  return typeof profile === 'string' && typeof device === 'number' && typeof parentUuid === 'string' ? { profile, device, parentUuid } : null;
}

export function formatGpuTable(rows: readonly GpuRow[], localProblem?: string): string {
  const header = ['HOST', 'GPU', 'UUID', 'NAME', 'TOTAL MB', 'USED MB', 'FREE MB', 'RESERVED MB', 'RESERVED FOR'];
  const lines = rows.map((r) => [
    r.host,
    r.mig ? `${r.index}:${r.mig.device}` : String(r.index),
    r.uuid,
    r.simulated ? `${r.name} (simulated)` : r.name,
    String(r.totalMb),
    r.usedMb === null ? 'n/a' : String(r.usedMb),
    String(r.freeMb),
    String(r.reservedMb),
    r.holders.map((h) => `${h.serviceId} pid ${h.pid} ${h.mb} MB`).join('; ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const pad = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const out = [pad(header), ...lines.map(pad)];
  if (rows.length === 0) out.push('no GPU known to voxq (set VOXQ_GPUS for a simulated inventory, or start a worker on a GPU host)');
  if (localProblem) out.push(`this host: ${localProblem}`);
  return `${out.join('\n')}\n`;
}
