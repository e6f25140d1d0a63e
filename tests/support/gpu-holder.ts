// A process that holds one GPU lease until it is killed (SIGTERM releases it; SIGKILL leaves it
// to expire). Logs "gpu lease held" with the lease id once it holds it, and "gpu lease refused"
// with the reason otherwise. Env: REDIS_URL, VOXQ_PREFIX, VOXQ_GPUS, VOXQ_GPU_LEASE_TTL_MS,
// HOLDER_GPU (index or uuid), HOLDER_MB.
import { loadConfig } from '../../src/shared/config.js';
import { openGpuManager, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';

const config = loadConfig();
const log = createLogger('gpu-holder', config.VOXQ_LOG_LEVEL);
const [card] = await resolveGpuSelector(config, process.env.HOLDER_GPU ?? '0');
if (!card) throw new Error('no card');
const manager = openGpuManager(config, { log, pinnedUuid: card.uuid });
const result = await manager.allocate('holder', Number(process.env.HOLDER_MB ?? '1024'));
if (!result.ok) {
  log.info({ reason: result.reason }, 'gpu lease refused');
  await manager.close();
  process.exit(3);
}
const keepAlive = setInterval(() => undefined, 60_000);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  void manager.close().then(() => process.exit(0));
});
log.info({ leaseId: result.lease.id, gpuUuid: card.uuid, requiredMb: result.lease.requiredMb }, 'gpu lease held');
