// Before each job a pinned worker reserves that job's working memory. When the card is short the
// job waits on the card's list in the ledger, its attempt not spent: the release that frees
// enough memory hands it over in the same Redis script (first fit, oldest first), so freed memory
// never sits unreserved while a job that fits waits, and nothing polls. A smaller job passes a
// bigger one that does not fit yet, until the bigger one has waited half of `waitMs`; a job that
// waits all of `waitMs` goes back to the queue (delayed a moment; BullMQ's moveToDelayed skips the
// attempt) for any worker to take.
// Concurrency follows memory: a worker holds at most its configured concurrency of jobs, and of
// those only as many run as the card has memory for; the rest wait for memory, not for a poll.
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { Logger } from '../logger.js';
import type { AllocateResult, GpuLease } from '../ports/gpu-manager.js';
import type { RedisGpuManager } from './redis-gpu-manager.js';

export interface JobMemoryGateOptions {
  manager: RedisGpuManager;
  gpuUuid: string;
  log: Logger;
  /** How long a job waits on the card's list before it goes back to the queue (default 1000 ms). */
  waitMs?: number;
  /** How long a job put back stays delayed before it is offered again (default 25 ms). */
  retryDelayMs?: number;
  /** Called with each allocation's round trip (benchmarks): granted at once, or not. */
  onAllocate?: (durationMs: number, ok: boolean) => void;
  /** Called with each wait on the card's list (benchmarks): how long, and whether memory was handed over. */
  onWait?: (durationMs: number, granted: boolean) => void;
}

export class JobMemoryGate {
  /** Stops each job now waiting for memory (it goes back to the queue). */
  private readonly waiting = new Set<() => void>();
  private closed = false;
  /** Jobs put back in the queue because memory stayed short. */
  shortCount = 0;

  constructor(private readonly options: JobMemoryGateOptions) {}

  attach(worker: Worker): void {
    // A closing worker stops waiting for memory: its waiting jobs go back to the queue at once.
    worker.on('closing', () => this.stopWaiting());
  }

  /** The job's lease, or (when memory stays short) the job is put back and this throws BullMQ's DelayedError. */
  async reserve(job: Job, token: string | undefined, serviceId: string, requiredMb: number): Promise<GpuLease | undefined> {
    if (requiredMb <= 0) return undefined;
    const waitMs = this.closed ? 0 : (this.options.waitMs ?? 1000);
    const started = performance.now();
    const attempt = await this.options.manager.allocateOrQueue(serviceId, requiredMb, { gpuUuid: this.options.gpuUuid, waitMs });
    this.options.onAllocate?.(performance.now() - started, attempt.ok);
    const result: AllocateResult = attempt.ok || attempt.code !== 'queued' ? attempt : await this.waitFor(attempt.granted, attempt.cancel);
    if (result.ok) return result.lease;

    this.shortCount += 1;
    this.options.log.debug({ jobId: job.id, requiredMb, freeMb: result.freeMb, code: result.code }, 'gpu memory short: job back to the queue');
    if (result.code !== 'insufficient_memory') throw new Error(result.reason);
    await job.moveToDelayed(Date.now() + (this.options.retryDelayMs ?? 25), token);
    throw new DelayedError();
  }

  close(): void {
    this.closed = true;
    this.stopWaiting();
  }

  private async waitFor(granted: Promise<AllocateResult>, cancel: () => void): Promise<AllocateResult> {
    this.waiting.add(cancel);
    const queuedAt = performance.now();
    try {
      const result = await granted;
      this.options.onWait?.(performance.now() - queuedAt, result.ok);
      return result;
    } finally {
      this.waiting.delete(cancel);
    }
  }

  private stopWaiting(): void {
    for (const cancel of this.waiting) cancel();
  }
}
