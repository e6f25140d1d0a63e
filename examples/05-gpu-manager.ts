// Example 5 of the interface document: a model loader that depends on the GpuManager port. The
// production manager, built from config by openGpuManager: the inventory from nvidia-smi, here
// simulated by VOXQ_GPUS (one NVIDIA L4), and the reservation ledger on Redis (REDIS_URL), shared
// by every process and host. Run: npx tsx examples/05-gpu-manager.ts
import { openGpuManager, type GpuLease, type GpuManager } from 'voxq';
import { exampleConfig, forgetExampleKeys } from './support/offline.js';

type LoadResult = { success: true; model: string; memoryAllocatedMb: number; backend: string; lease: GpuLease } | { success: false; error: string };

class ModelLoader {
  constructor(private readonly gpu: GpuManager) {}

  async loadModelSafely(serviceId: string, modelName: string, requiredMemoryMb: number): Promise<LoadResult> {
    if (!(await this.gpu.isAvailable())) return { success: false, error: 'GPU not available' };
    const gpuInfo = await this.gpu.info();
    console.log(`GPU: ${gpuInfo.cards[0]?.name ?? 'none'}${gpuInfo.simulated ? ' (simulated)' : ''}`);
    const [usage] = await this.gpu.memoryUsage();
    if (!usage || usage.freeMb < requiredMemoryMb) {
      return { success: false, error: `Insufficient memory. Required: ${requiredMemoryMb}MB, Available: ${usage?.freeMb ?? 0}MB` };
    }
    // Atomic across processes and hosts: the check above may be stale by now, allocate() is not.
    const allocated = await this.gpu.allocate(serviceId, requiredMemoryMb);
    if (!allocated.ok) return { success: false, error: `Memory allocation failed: ${allocated.reason}` };
    // Load the model here …
    const { backend } = await this.gpu.recommendedBackend(modelName);
    return { success: true, model: modelName, memoryAllocatedMb: requiredMemoryMb, backend, lease: allocated.lease };
  }
}

const config = exampleConfig({ VOXQ_GPUS: '0:NVIDIA L4:23034' });
const gpu = openGpuManager(config);
try {
  const loader = new ModelLoader(gpu);
  const kokoro = await loader.loadModelSafely('tts-worker-1', 'kokoro', 1024);
  if (!kokoro.success) throw new Error(kokoro.error);
  console.log(`Loaded ${kokoro.model}: ${kokoro.memoryAllocatedMb} MB reserved, backend ${kokoro.backend}`);
  console.log(`Free after the reservation: ${(await gpu.memoryUsage())[0]?.freeMb} MB`);
  const tooBig = await loader.loadModelSafely('llm-worker-1', 'a-70b-model', 40_000);
  console.log(tooBig.success ? 'unexpected success' : tooBig.error);
  await kokoro.lease.release();
  console.log(`Free after release: ${(await gpu.memoryUsage())[0]?.freeMb} MB`);
} finally {
  await gpu.close();
  await forgetExampleKeys(config);
}

// prints: GPU: NVIDIA L4 \(simulated\)
// prints: Loaded kokoro: 1024 MB reserved, backend cuda
// prints: Free after the reservation: 22010 MB
// prints: Insufficient memory\. Required: 40000MB, Available: 22010MB
// prints: Free after release: 23034 MB
