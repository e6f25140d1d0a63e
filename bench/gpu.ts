// The gpu part: how tightly GPU-pinned workers pack two simulated cards through the Redis
// reservation ledger, whether a card is ever oversubscribed, and what an allocation costs.
// 8 worker processes (tests/support/gpu-racer.ts: a BullMQ worker with the stage runner's
// JobMemoryGate), half pinned to each card; 2,000 jobs whose sizes come from a fixed seed,
// uniformly from {256, 512, 1024, 2048, 4096} MB, each holding its lease 5–50 ms. While jobs are
// queued (in the queue, or taken by a worker but still waiting on a card's list for memory), the
// reserved share of both cards is sampled every 10 ms straight from the ledger.
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { resolveHostId } from '../src/shared/gpu/host-id.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';
import { gpuTestPrefix, reservedMb, waitingCount } from '../tests/support/gpu-ledger.js';
import type { RacerFigures, RacerJob } from '../tests/support/gpu-racer.js';
import { spawnScript, stopScript } from '../tests/support/script-process.js';
import { pick, seededRandom } from '../tests/support/seeded-random.js';
import { benchLogger } from './support/log.js';
import { scanKeys } from './support/redis-space.js';
import { fig, mean, percentile } from './support/stats.js';

export const GPU_HELP = `gpu: GPU reservations packing two simulated cards (Redis ledger, pinned worker processes)

  npm run bench -- gpu [options]

  --jobs N          jobs (default 2000)
  --workers N       worker processes, split evenly over the cards (default 8)
  --concurrency N   jobs at once per worker process (default 8)
  --card-mb N       memory of each simulated card (default 24576)
  --seed N          seed for job sizes and hold times (default 5)
  --quick           200 jobs (a smoke test, not figures)

Figures: one JSON line on stdout; progress on stderr.
Targets (printed, not asserted): gpu_packing_ratio >= 0.9, oversubscriptions = 0, allocate_p99_ms <= 20.`;

const SIZES_MB = [256, 512, 1024, 2048, 4096] as const;
const SAMPLE_EVERY_MS = 10;
const CARDS = 2;
const TARGETS = { gpu_packing_ratio: 0.9, oversubscriptions: 0, allocate_p99_ms: 20 };

export async function runGpu(argv: readonly string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      jobs: { type: 'string', default: '2000' },
      workers: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '8' },
      'card-mb': { type: 'string', default: '24576' },
      seed: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  const jobs = values.quick ? 200 : Number(values.jobs);
  const workers = Number(values.workers);
  const cardMb = Number(values['card-mb']);
  const log = benchLogger('voxq-bench-gpu');
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = gpuTestPrefix();
  const host = resolveHostId();
  const redis = createRedis(redisUrl, 'producer', 'voxq-bench-gpu');
  const queue = new Queue<RacerJob>('gpu-bench', { connection: redis, prefix });
  const env = {
    REDIS_URL: redisUrl,
    VOXQ_PREFIX: prefix,
    VOXQ_GPUS: Array.from({ length: CARDS }, (_, i) => `${i}:Simulated ${cardMb} MB:${cardMb}`).join(','),
    // The racers' logs are captured (not shown); 'racer ready' is an info line.
    VOXQ_LOG_LEVEL: 'info',
    RACER_QUEUE: 'gpu-bench',
    RACER_CONCURRENCY: String(values.concurrency),
  };
  log.info({ jobs, workers, cardMb, cards: CARDS, prefix }, 'gpu bench: starting worker processes');
  const racers = Array.from({ length: workers }, (_, i) => spawnScript('tests/support/gpu-racer.ts', { ...env, RACER_GPU: String(i % CARDS) }));
  try {
    await Promise.all(racers.map((r) => r.waitForLog('racer ready', 60_000)));
    const random = seededRandom(Number(values.seed));
    const batch = Array.from({ length: jobs }, (_, i) => ({
      name: 'gpu',
      data: { mb: pick(random, SIZES_MB), holdMs: 5 + Math.floor(random() * 46) },
      opts: { jobId: `gpu-${i}`, attempts: 1, removeOnComplete: true, removeOnFail: false },
    }));
    const demandMb = batch.reduce((sum, j) => sum + j.data.mb * j.data.holdMs, 0);

    // Pause the queue while it fills, so sampling starts with every job queued.
    await queue.pause();
    await queue.addBulk(batch);
    const started = performance.now();
    await queue.resume();

    const shares: number[] = [];
    let oversubscriptions = 0;
    let maxShare = 0;
    const queuedKeys = ['wait', 'paused', 'delayed', 'prioritized'].map((k) => `${prefix}:gpu-bench:${k}`);
    const cardIndexes = Array.from({ length: CARDS }, (_, i) => i);
    for (;;) {
      const tick = performance.now();
      // Queued: in the queue, or taken by a worker but still waiting on a card's list for memory.
      const [inQueue, onWaitLists, reserved] = await Promise.all([
        redis
          .multi()
          .llen(queuedKeys[0] as string)
          .llen(queuedKeys[1] as string)
          .zcard(queuedKeys[2] as string)
          .zcard(queuedKeys[3] as string)
          .exec()
          .then((r) => (r ?? []).reduce((sum, [, n]) => sum + Number(n), 0)),
        Promise.all(cardIndexes.map((i) => waitingCount(redis, prefix, host, i))).then((counts) => counts.reduce((sum, n) => sum + n, 0)),
        Promise.all(cardIndexes.map((i) => reservedMb(redis, prefix, host, i))),
      ]);
      const queued = inQueue + onWaitLists;
      for (const mb of reserved) if (mb > cardMb) oversubscriptions += 1;
      if (queued === 0) break;
      const share = reserved.reduce((sum, mb) => sum + mb, 0) / (cardMb * CARDS);
      shares.push(share);
      maxShare = Math.max(maxShare, share);
      const rest = SAMPLE_EVERY_MS - (performance.now() - tick);
      if (rest > 0) await sleep(rest);
    }
    const queuedForS = (performance.now() - started) / 1000;
    while ((await queue.getActiveCount()) > 0) await sleep(20);
    const wallS = (performance.now() - started) / 1000;
    const failed = await queue.getFailedCount();
    const figures = (await Promise.all(racers.map(stopScript))).map((out) => JSON.parse(out.trim().split('\n').pop() ?? '{}') as RacerFigures);
    const allocateMs = figures.flatMap((f) => f.allocateMs);
    const waitMs = figures.flatMap((f) => f.waitMs);
    const completed = figures.reduce((sum, f) => sum + f.completed, 0);
    const deferrals = figures.reduce((sum, f) => sum + f.short, 0);
    const result = {
      part: 'gpu',
      cards: CARDS,
      card_mb: cardMb,
      workers,
      concurrency: Number(values.concurrency),
      jobs,
      completed,
      failed,
      gpu_packing_ratio: fig(mean(shares), 3),
      max_reserved_share: fig(maxShare, 3),
      samples: shares.length,
      oversubscriptions,
      allocate_p50_ms: fig(percentile(allocateMs, 50)),
      allocate_p99_ms: fig(percentile(allocateMs, 99)),
      allocations: allocateMs.length,
      // Jobs that waited on a card's list until a release handed memory over (or the wait ran out).
      waits: waitMs.length,
      wait_p50_ms: fig(percentile(waitMs, 50)),
      wait_p99_ms: fig(percentile(waitMs, 99)),
      // Jobs put back in the queue (no attempt spent) because memory stayed short.
      deferrals,
      queued_for_s: fig(queuedForS),
      wall_s: fig(wallS),
      jobs_per_s: fig(jobs / wallS, 1),
      // CPU the worker processes spent after loading their code (tsx's compile excluded), s.
      workers_cpu_s: fig(figures.reduce((sum, f) => sum + f.cpuMs, 0) / 1000),
      ideal_s: fig(demandMb / (cardMb * CARDS) / 1000),
      // This machine's load when the part started: the worker processes share its cores.
      cpus: cpus().length,
      load_avg_1m: fig(loadAtStart, 2),
      targets: TARGETS,
    };
    log.info(result, 'gpu bench done');
    return result;
  } finally {
    for (const r of racers) if (r.child.exitCode === null && r.child.signalCode === null) r.kill('SIGKILL');
    await Promise.all(racers.map((r) => r.exited));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    const left = await scanKeys(redis, `${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    await closeRedis(redis);
  }
}
