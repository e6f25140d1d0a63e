// `--gpu N|UUID|all`: which cards a worker is pinned to (a MIG device by its `MIG-…` uuid; `all`:
// every card, and every MIG device of a card in MIG mode, never such a card whole), and the CUDA_VISIBLE_DEVICES that
// pins a process to one card (by uuid, since CUDA may number cards differently from nvidia-smi).
import { InputError } from '../errors.js';
import type { GpuCard, GpuInventory } from '../ports/gpu-manager.js';

export function selectGpus(selector: string, inventory: GpuInventory): GpuCard[] {
  const value = selector.trim();
  const listed = inventory.cards.map((c) => `${c.index} (${c.uuid})`).join(', ') || 'none';
  if (value === 'all') {
    if (inventory.cards.length === 0) throw new InputError('no_gpu', `--gpu all: no GPU on ${inventory.host}`);
    return inventory.cards;
  }
  if (/^\d+$/.test(value)) {
    const slices = inventory.cards.filter((c) => c.index === Number(value) && c.mig !== undefined);
    if (slices.length > 0) {
      const named = slices.map((c) => `${c.uuid} (${c.mig?.profile ?? ''})`).join(', ');
      throw new InputError('gpu_in_mig_mode', `--gpu ${value}: GPU ${value} is in MIG mode and is never offered whole; pin to one of its MIG devices: ${named}`);
    }
  }
  const card = /^\d+$/.test(value)
    ? inventory.cards.find((c) => c.index === Number(value))
    : inventory.cards.find((c) => c.uuid === value || (value.length >= 8 && c.uuid.startsWith(value)));
  if (!card) throw new InputError('unknown_gpu', `--gpu ${value}: no such GPU on ${inventory.host}; cards: ${listed}`);
  return [card];
}

/** What CUDA_VISIBLE_DEVICES must be for a process pinned to this card. */
export function cudaVisibleDevices(card: GpuCard): string {
  return card.simulated ? String(card.index) : card.uuid;
}
