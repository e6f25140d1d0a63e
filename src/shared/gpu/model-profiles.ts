// How much GPU memory a model needs: resident (loaded once per worker) and per job (working
// memory while one job runs). VOXQ_GPU_PROFILES=model:residentMb:jobMb[,…] overrides or adds to
// the defaults; a model is looked up by its name, then by its provider's name.

export interface ModelProfile {
  model: string;
  residentMb: number;
  jobMb: number;
}

/** Rough figures for the models voxq can run on a GPU (fp32 ONNX / fp16 weights plus activations); remote APIs and espeak-ng need none. */
export const DEFAULT_GPU_PROFILES = 'groq:0:0,openai:0:0,espeak:0:0,kokoro:1024:512,whisper-large-v3-turbo:1800:700,whisper-large-v3:3400:900,fake:256:128';

export class GpuProfilesError extends Error {
  override readonly name = 'GpuProfilesError';
}

export function parseGpuProfiles(value: string): Map<string, ModelProfile> {
  const profiles = new Map<string, ModelProfile>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const parts = entry.split(':');
    const jobMb = Number(parts.pop());
    const residentMb = Number(parts.pop());
    const model = parts.join(':').trim();
    if (model === '' || !Number.isInteger(residentMb) || residentMb < 0 || !Number.isInteger(jobMb) || jobMb < 0) {
      throw new GpuProfilesError(`VOXQ_GPU_PROFILES: "${entry}" is not model:residentMb:jobMb (e.g. kokoro:1024:512)`);
    }
    profiles.set(model, { model, residentMb, jobMb });
  }
  return profiles;
}

export class ModelProfiles {
  private readonly profiles: Map<string, ModelProfile>;

  constructor(overrides?: string) {
    this.profiles = parseGpuProfiles(DEFAULT_GPU_PROFILES);
    for (const [model, profile] of parseGpuProfiles(overrides ?? '')) this.profiles.set(model, profile);
  }

  /** The profile of a model (by model name, then provider name), or undefined. */
  find(model: string, provider?: string): ModelProfile | undefined {
    return this.profiles.get(model) ?? (provider !== undefined ? this.profiles.get(provider) : undefined);
  }

  all(): ModelProfile[] {
    return [...this.profiles.values()];
  }
}
