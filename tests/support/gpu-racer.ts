// A GPU-pinned worker process for the GPU race test and `npm run bench -- gpu`: a BullMQ worker
// on RACER_QUEUE pinned to one simulated card (RACER_GPU), reserving each job's `mb` through the
// same JobMemoryGate the stage runner uses, holding it `holdMs`, then releasing. On SIGTERM it
// closes and prints one JSON line of its figures on stdout.
// Run: node --import tsx tests/support/gpu-racer.ts (env: REDIS_URL, VOXQ_PREFIX, VOXQ_GPUS, …)
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job } from 'bullmq';
import { loadConfig } from '../../src/shared/config.js';
import { JobMemoryGate } from '../../src/shared/gpu/job-memory-gate.js';
import { openGpuManager, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';

export interface RacerJob {
  mb: number;
  holdMs: number;
}

export interface RacerFigures {
  pid: number;
  gpuUuid: string;
  completed: number;
  short: number;
  /** Every allocation's round trip (granted, queued or refused), ms. */
  allocateMs: number[];
  /** Every wait on the card's list that ended with memory handed over, ms (a wait that ran out counts in `short`). */
  waitMs: number[];
  /** CPU this process spent (user + system) after loading its code, ms. */
  cpuMs: number;
}

const cpuAtStart = process.cpuUsage();
const config = loadConfig();
const log = createLogger('gpu-racer', config.VOXQ_LOG_LEVEL);
const [card] = await resolveGpuSelector(config, process.env.RACER_GPU ?? '0');
if (!card) throw new Error('no card');
const manager = openGpuManager(config, { log, pinnedUuid: card.uuid });
const allocateMs: number[] = [];
const waitMs: number[] = [];
const tuning = (name: string) => (process.env[name] !== undefined ? Number(process.env[name]) : undefined);
const gate = new JobMemoryGate({
  manager,
  gpuUuid: card.uuid,
  log,
  onAllocate: (ms) => allocateMs.push(ms),
  onWait: (ms, granted) => granted && waitMs.push(ms),
  // Unset: the gate's defaults (what the stage runner uses).
  ...(tuning('RACER_WAIT_MS') !== undefined ? { waitMs: tuning('RACER_WAIT_MS') } : {}),
  ...(tuning('RACER_RETRY_DELAY_MS') !== undefined ? { retryDelayMs: tuning('RACER_RETRY_DELAY_MS') } : {}),
});
let completed = 0;
const connection = createRedis(config.REDIS_URL, 'worker', 'gpu-racer');
const worker = new Worker<RacerJob>(
  process.env.RACER_QUEUE ?? 'gpu-race',
  async (job: Job<RacerJob>, token?: string) => {
    const lease = await gate.reserve(job, token, 'racer', job.data.mb);
    try {
      await sleep(job.data.holdMs);
    } finally {
      await lease?.release();
    }
    completed += 1;
    return { gpuUuid: card.uuid };
  },
  { connection, prefix: config.VOXQ_PREFIX, concurrency: Number(process.env.RACER_CONCURRENCY ?? 8), autorun: true },
);
worker.on('error', (error) => log.error({ err: error }, 'racer worker error'));
gate.attach(worker);

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  void (async () => {
    await worker.close();
    gate.close();
    await manager.close();
    await closeRedis(connection);
    const cpu = process.cpuUsage(cpuAtStart);
    const figures: RacerFigures = { pid: process.pid, gpuUuid: card.uuid, completed, short: gate.shortCount, allocateMs, waitMs, cpuMs: (cpu.user + cpu.system) / 1000 };
    process.stdout.write(`${JSON.stringify(figures)}\n`, () => process.exit(0));
  })();
});
// As a pinned worker does at start (PinnedGpu.pin): ready to hear that memory was handed over.
await manager.readyToQueue();
await worker.waitUntilReady();
log.info({ gpuUuid: card.uuid, pid: process.pid }, 'racer ready');
