// The seed's get_recommended_backend(model): cuda when a (pinned) card can hold the model's
// profile (resident + one job) in what is free now, else cpu, with the reason in words.
import type { BackendRecommendation, GpuMemoryUsage } from '../ports/gpu-manager.js';
import type { ModelProfile } from './model-profiles.js';

export function recommendBackend(model: string, profile: ModelProfile | undefined, cards: readonly GpuMemoryUsage[]): BackendRecommendation {
  if (!profile) return { backend: 'cpu', reason: `no GPU memory profile for model ${model} (add it to VOXQ_GPU_PROFILES)` };
  if (cards.length === 0) return { backend: 'cpu', reason: 'no GPU on this host' };
  const neededMb = profile.residentMb + profile.jobMb;
  const best = [...cards].sort((a, b) => b.freeMb - a.freeMb)[0] as GpuMemoryUsage;
  if (best.freeMb >= neededMb) {
    return { backend: 'cuda', gpuUuid: best.uuid, reason: `GPU ${best.index} (${best.uuid}) has ${best.freeMb} MB free; ${model} needs ${neededMb} MB` };
  }
  return { backend: 'cpu', reason: `${model} needs ${neededMb} MB; the freest GPU (${best.index}, ${best.uuid}) has ${best.freeMb} MB free` };
}
