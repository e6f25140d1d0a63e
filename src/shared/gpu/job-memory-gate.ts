// Before each job a pinned worker reserves that job's working memory. When the card is short the
// job waits on the card's list in the ledger, its attempt not spent: the release that frees
// enough memory hands it over in the same Redis script (first fit, oldest first), so freed memory
// never sits unreserved while a job that fits waits. A smaller job passes a
// bigger one that does not fit yet, until the bigger one has waited half of `waitMs`; a job that
// waits all of `waitMs` goes back to the queue (delayed a moment; BullMQ's moveToDelayed skips the
// attempt) for any worker to take. A job short here looks at the host's other cards, and again
// every HANDOFF_CHECK_MS while it waits (the one poll: other cards' releases are not heard here):
// when a worker of its stage holds one that has room (`roomElsewhere`), the job goes straight
// back to the queue for that worker rather than waiting here, and this worker stops
// taking jobs of that queue for HANDOFF_PAUSE_MS (BullMQ's local pause: its active jobs go on), so
// that it does not take the job straight back. One worker sends a job on at most MAX_HANDOFFS
// times per `waitMs`; after that the job waits here as before.
// Concurrency follows memory: a worker holds at most its configured concurrency of jobs, and of
// those only as many run as the card has memory for; the rest wait for memory, not for a poll.
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, WaitingError, type Job, type Worker } from 'bullmq';
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
  /** Whether another card of this host that a worker of the stage holds has this much room now. */
  roomElsewhere?: (service: string, requiredMb: number) => Promise<boolean>;
}

/** How often one worker sends the same job on to another card within one `waitMs`. */
const MAX_HANDOFFS = 3;
/** How long a worker that sent a job on takes no job of that queue (the other card's worker takes it meanwhile). */
const HANDOFF_PAUSE_MS = 200;
/** How often a job waiting here looks for room on the host's other cards. */
const HANDOFF_CHECK_MS = 250;

export class JobMemoryGate {
  /** Stops each job now waiting for memory (it goes back to the queue). */
  private readonly waiting = new Set<() => void>();
  private closed = false;
  /** Jobs put back in the queue because memory stayed short. */
  shortCount = 0;
  /** Jobs sent on to another card of this host that had room. */
  handoffCount = 0;
  /** Job id → when this worker sent it on (recent ones only). */
  private readonly handoffs = new Map<string, number[]>();
  /** The attached workers by queue name, and those closing. */
  private readonly workers = new Map<string, Worker>();
  private readonly closingWorkers = new Set<Worker>();
  /** The last look at the other cards per service and size (see roomCheck). */
  private readonly roomChecks = new Map<string, { at: number; answer: Promise<boolean> }>();

  constructor(private readonly options: JobMemoryGateOptions) {}

  attach(worker: Worker): void {
    this.workers.set(worker.name, worker);
    // A closing worker stops waiting for memory: its waiting jobs go back to the queue at once.
    worker.on('closing', () => {
      this.closingWorkers.add(worker);
      this.stopWaiting();
    });
  }

  /** The job's lease, or (when memory stays short) the job is put back and this throws BullMQ's DelayedError. */
  async reserve(job: Job, token: string | undefined, serviceId: string, requiredMb: number, service?: string): Promise<GpuLease | undefined> {
    if (requiredMb <= 0) return undefined;
    const waitMs = this.closed ? 0 : (this.options.waitMs ?? 1000);
    const started = performance.now();
    const attempt = await this.options.manager.allocateOrQueue(serviceId, requiredMb, { gpuUuid: this.options.gpuUuid, waitMs });
    this.options.onAllocate?.(performance.now() - started, attempt.ok);
    let sentOn = false;
    let result: AllocateResult;
    if (attempt.ok || attempt.code !== 'queued') result = attempt;
    else {
      // While the job waits here, another card of the host may get room for it: then it is sent on.
      const watch = new AbortController();
      const watching = service === undefined || !this.options.roomElsewhere ? undefined : this.watchElsewhere(job, service, requiredMb, waitMs, watch.signal, () => {
        sentOn = true;
        attempt.cancel();
      });
      try {
        result = await this.waitFor(attempt.granted, attempt.cancel);
      } finally {
        watch.abort();
        await watching;
      }
    }
    // Memory handed over here, even as the job was being sent on: the lease is this job's.
    if (!result.ok && sentOn) {
      this.handoffCount += 1;
      this.options.log.debug({ jobId: job.id, requiredMb, service }, 'gpu memory short here, room on another card: job back to the queue');
      await this.stepAside(job.queueName);
      // Straight back to wait (no attempt spent), waking an idle worker at once.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (result.ok) return result.lease;

    this.shortCount += 1;
    this.options.log.debug({ jobId: job.id, requiredMb, freeMb: result.freeMb, code: result.code }, 'gpu memory short: job back to the queue');
    if (result.code !== 'insufficient_memory') throw new Error(result.reason);
    await job.moveToDelayed(Date.now() + (this.options.retryDelayMs ?? 25), token);
    throw new DelayedError();
  }

  /** Checks now and every HANDOFF_CHECK_MS, until aborted, whether to send the job on; calls `sendOn` once if so. */
  private async watchElsewhere(job: Job, service: string, requiredMb: number, waitMs: number, signal: AbortSignal, sendOn: () => void): Promise<void> {
    while (!signal.aborted) {
      if (await this.sendOn(job, service, requiredMb, waitMs)) {
        if (!signal.aborted) sendOn();
        return;
      }
      await sleep(HANDOFF_CHECK_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Whether to send the job on to another card (one has room now, and this worker has not sent it on too often lately). */
  private async sendOn(job: Job, service: string, requiredMb: number, waitMs: number): Promise<boolean> {
    if (!this.options.roomElsewhere || job.id === undefined || this.closed) return false;
    const now = Date.now();
    for (const [id, times] of this.handoffs) {
      const recent = times.filter((t) => now - t < waitMs);
      if (recent.length === 0) this.handoffs.delete(id);
      else this.handoffs.set(id, recent);
    }
    const recent = this.handoffs.get(job.id) ?? [];
    if (recent.length >= MAX_HANDOFFS) return false;
    const room = await this.roomCheck(service, requiredMb);
    if (room) this.handoffs.set(job.id, [...recent, now]);
    return room;
  }

  /** One look at the other cards per service and size at a time, its answer shared for HANDOFF_CHECK_MS (many jobs may wait at once). */
  private roomCheck(service: string, requiredMb: number): Promise<boolean> {
    const key = `${service}|${requiredMb}`;
    const cached = this.roomChecks.get(key);
    if (cached && Date.now() - cached.at < HANDOFF_CHECK_MS) return cached.answer;
    const answer = (this.options.roomElsewhere?.(service, requiredMb) ?? Promise.resolve(false)).catch((error: unknown) => {
      this.options.log.warn({ err: error }, 'gpu room check on other cards failed; waiting here');
      return false;
    });
    this.roomChecks.set(key, { at: Date.now(), answer });
    return answer;
  }

  /** Takes no job of the queue for a moment (its active jobs go on), unless it is closing or paused already. */
  private async stepAside(queueName: string): Promise<void> {
    const worker = this.workers.get(queueName);
    if (!worker || worker.isPaused() || this.closingWorkers.has(worker)) return;
    await worker.pause(true);
    setTimeout(() => {
      if (!this.closingWorkers.has(worker)) void worker.resume();
    }, HANDOFF_PAUSE_MS).unref();
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
