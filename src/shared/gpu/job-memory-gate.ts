// Before each job a pinned worker reserves that job's working memory. When the card is short,
// the job goes back to the queue (delayed a moment, its attempt not spent: BullMQ's
// moveToDelayed skips the attempt) and this worker stops fetching until memory frees on its
// card (a release anywhere, announced on Redis) or a short wait passes, so it neither fails the
// job nor spins through the queue. Concurrency follows memory.
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { Logger } from '../logger.js';
import type { GpuLease } from '../ports/gpu-manager.js';
import type { RedisGpuManager } from './redis-gpu-manager.js';

export interface JobMemoryGateOptions {
  manager: RedisGpuManager;
  gpuUuid: string;
  log: Logger;
  /** How long a short job stays delayed before it is offered again (default 25 ms). */
  retryDelayMs?: number;
  /** Refusals in a row (no grant, no memory freed in between) before this worker stops fetching (default 3):
   *  a smaller job may still fit where a bigger one did not. */
  shortStreakToPause?: number;
  /** The longest this worker stops fetching without hearing of freed memory (default 250 ms). */
  maxPauseMs?: number;
  /** Called with each allocation's duration (benchmarks). */
  onAllocate?: (durationMs: number, ok: boolean) => void;
}

export class JobMemoryGate {
  private readonly workers = new Map<Worker, number>();
  /** Leases this gate granted and that are not released yet: the jobs that fit. */
  private held = 0;
  private pausedUntilFreed = false;
  private readonly unsubscribe: () => void;
  private wakeTimer: NodeJS.Timeout | undefined;
  private shortStreak = 0;
  shortCount = 0;

  constructor(private readonly options: JobMemoryGateOptions) {
    this.unsubscribe = options.manager.onFreed((_host, uuid) => {
      if (uuid === options.gpuUuid) this.wake();
    });
  }

  /** Concurrency follows memory: a worker takes at most its configured concurrency, fewer while memory is short. */
  attach(worker: Worker): void {
    this.workers.set(worker, worker.concurrency);
  }

  /** The job's lease, or (when short) the job is put back and this throws BullMQ's DelayedError. */
  async reserve(job: Job, token: string | undefined, serviceId: string, requiredMb: number): Promise<GpuLease | undefined> {
    if (requiredMb <= 0) return undefined;
    const started = performance.now();
    const result = await this.options.manager.allocate(serviceId, requiredMb, { gpuUuid: this.options.gpuUuid });
    this.options.onAllocate?.(performance.now() - started, result.ok);
    if (result.ok) {
      this.shortStreak = 0;
      this.held += 1;
      const lease = result.lease;
      const release = lease.release.bind(lease);
      let released = false;
      lease.release = async () => {
        if (!released) {
          released = true;
          this.held -= 1;
        }
        await release();
      };
      return lease;
    }
    this.shortCount += 1;
    this.shortStreak += 1;
    this.options.log.debug({ jobId: job.id, requiredMb, freeMb: result.freeMb, code: result.code }, 'gpu memory short: job back to the queue');
    if (result.code !== 'insufficient_memory') throw new Error(result.reason);
    // Take no more jobs at once than fit now; a release on the card lets one more in (wake()).
    for (const worker of this.workers.keys()) worker.concurrency = Math.max(1, this.held);
    await job.moveToDelayed(Date.now() + (this.options.retryDelayMs ?? 25), token);
    if (this.shortStreak >= (this.options.shortStreakToPause ?? 3)) this.pauseFetching();
    throw new DelayedError();
  }

  private pauseFetching(): void {
    if (this.pausedUntilFreed) return;
    this.pausedUntilFreed = true;
    for (const worker of this.workers.keys()) if (!worker.isPaused()) void worker.pause(true);
    this.wakeTimer = setTimeout(() => this.wake(), this.options.maxPauseMs ?? 250);
  }

  private wake(): void {
    this.shortStreak = 0;
    for (const [worker, max] of this.workers) if (worker.concurrency < max) worker.concurrency = Math.min(max, worker.concurrency + 1);
    if (!this.pausedUntilFreed) return;
    this.pausedUntilFreed = false;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const worker of this.workers.keys()) if (worker.isPaused()) void worker.resume();
  }

  close(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.unsubscribe();
    this.workers.clear();
  }
}
