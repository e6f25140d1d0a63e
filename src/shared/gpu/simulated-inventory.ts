// A simulated GPU inventory for hosts without a GPU: VOXQ_GPUS=index:name:totalMb[,…]
// (e.g. `0:NVIDIA L4:23034,1:NVIDIA L4:23034`). Every card it makes says `simulated`.
import type { GpuCard, GpuInventory } from '../ports/gpu-manager.js';

export class SimulatedGpusError extends Error {
  override readonly name = 'SimulatedGpusError';
}

/** The uuid a simulated card gets: stable across processes, so they share one ledger. */
export function simulatedUuid(index: number): string {
  return `GPU-simulated-${String(index).padStart(4, '0')}`;
}

export function parseSimulatedGpus(value: string, host: string): GpuCard[] {
  const cards: GpuCard[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const parts = entry.split(':');
    const index = Number(parts[0]);
    const totalMb = Number(parts[parts.length - 1]);
    const name = parts.slice(1, -1).join(':').trim();
    if (parts.length < 3 || !Number.isInteger(index) || index < 0 || !Number.isInteger(totalMb) || totalMb <= 0 || name === '') {
      throw new SimulatedGpusError(`VOXQ_GPUS: "${entry}" is not index:name:totalMb (e.g. 0:NVIDIA L4:23034)`);
    }
    if (cards.some((c) => c.index === index)) throw new SimulatedGpusError(`VOXQ_GPUS: index ${index} appears twice`);
    cards.push({ host, index, uuid: simulatedUuid(index), name, totalMb, usedMb: 0, utilizationPct: null, migMode: null, simulated: true });
  }
  if (cards.length === 0) throw new SimulatedGpusError('VOXQ_GPUS is set but lists no card (index:name:totalMb,…)');
  return cards;
}

export class SimulatedInventory {
  private readonly cards: GpuCard[];

  constructor(
    value: string,
    private readonly host: string,
  ) {
    this.cards = parseSimulatedGpus(value, host);
  }

  read(): Promise<GpuInventory> {
    return Promise.resolve({ host: this.host, simulated: true, cards: this.cards.map((c) => ({ ...c })), processes: [], problems: [] });
  }
}
