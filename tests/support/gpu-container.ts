// One "container" on a simulated GPU box (tests/support/fake-gpu-box.ts): a process with the
// box's VOXQ_HOST_ID and the fake nvidia-smi on its PATH, which reserves GPU memory through the
// real GpuManager and then uses what it holds (tells the box, as a driver would see it).
// CONTAINER_MODE=hold: holds one lease of CONTAINER_MB until killed ("gpu lease held").
// CONTAINER_MODE=churn: CONTAINER_LOOPS loops reserve one of CONTAINER_SIZES (MB, comma
// separated), hold it 5–30 ms, release, until SIGTERM; then one JSON line of figures on stdout.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/shared/config.js';
import { openGpuManager, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { useOnBox } from './fake-gpu-box.js';

const config = loadConfig();
const log = createLogger('gpu-container', config.VOXQ_LOG_LEVEL);
const [card] = await resolveGpuSelector(config, process.env.CONTAINER_GPU ?? '0');
if (!card) throw new Error('no card');
const boxDir = process.env.FAKE_NVIDIA_SMI_BOX ?? '';
const manager = openGpuManager(config, { log, pinnedUuid: card.uuid });
let usedMb = 0;
const use = (deltaMb: number) => {
  usedMb += deltaMb;
  useOnBox(boxDir, card.uuid, process.pid, usedMb);
};

if (process.env.CONTAINER_MODE === 'hold') {
  const result = await manager.allocate('container', Number(process.env.CONTAINER_MB ?? '1024'));
  if (!result.ok) {
    log.info({ reason: result.reason }, 'gpu lease refused');
    await manager.close();
    process.exit(3);
  }
  use(result.lease.requiredMb);
  const keepAlive = setInterval(() => undefined, 60_000);
  process.on('SIGTERM', () => {
    clearInterval(keepAlive);
    void manager.close().then(() => process.exit(0));
  });
  log.info({ leaseId: result.lease.id, gpuUuid: card.uuid, requiredMb: result.lease.requiredMb }, 'gpu lease held');
} else {
  const sizes = (process.env.CONTAINER_SIZES ?? '512,1024,2048').split(',').map(Number);
  let running = true;
  let granted = 0;
  let refused = 0;
  const loop = async (seed: number) => {
    let i = seed;
    while (running) {
      i += 1;
      const mb = sizes[i % sizes.length] ?? 512;
      const result = await manager.allocate('container', mb);
      if (!result.ok) {
        refused += 1;
        await sleep(5);
        continue;
      }
      granted += 1;
      use(mb);
      await sleep(5 + ((i * 7) % 26));
      use(-mb);
      await result.lease.release();
    }
  };
  const loops = Array.from({ length: Number(process.env.CONTAINER_LOOPS ?? '3') }, (_, i) => loop(i + process.pid));
  process.on('SIGTERM', () => {
    running = false;
    void Promise.all(loops)
      .then(() => manager.close())
      .then(() => process.stdout.write(`${JSON.stringify({ pid: process.pid, granted, refused })}\n`, () => process.exit(0)));
  });
  log.info({ gpuUuid: card.uuid }, 'container ready');
}
