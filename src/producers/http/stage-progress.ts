// Stage progress of turns, heard from BullMQ's own event streams (one QueueEvents per stage
// queue, opened on first use and shared by every listener of this process). Stage jobs are
// named after their turn (`<turnId>.<stage>`), so an event finds its turn without a lookup,
// and the workers publish nothing extra for it. `activity` reads the jobs' states directly:
// what is running now, and whether anything of the turn is left in the queues at all.
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { stageJobId } from '../../shared/contracts/jobs.js';
import type { StageName } from '../../shared/contracts/turn.js';
import { openQueueEvents } from '../../shared/queue-events.js';

/** `waiting`: back in its queue after an attempt — a retry's backoff, or a GPU short of memory. */
export type StageStatus = 'running' | 'waiting' | 'completed' | 'failed';

export interface StageProgress {
  stage: StageName;
  status: StageStatus;
  /** `waiting` with a backoff: when the job is due again (ISO 8601). */
  until?: string;
}

export interface StageActivity {
  /** Stages whose job is being worked on now. */
  running: StageName[];
  /** Whether any stage job of the turn is waiting, delayed (a retry's backoff) or running. */
  pending: boolean;
}

type Listener = (progress: StageProgress) => void;

export interface StageProgressFeedOptions {
  /** The stage queues (their names are the stages). */
  queues: readonly Queue[];
  /** Reads each stream's end; QueueEvents get their own blocking connections. */
  connection: Redis;
  prefix: string;
  /** A listener that threw (the feed goes on for the others). */
  onListenerError?: (error: unknown) => void;
}

const PENDING_STATES = new Set(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);

export class StageProgressFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private opening: Promise<QueueEvents[]> | undefined;
  private closed = false;

  constructor(private readonly options: StageProgressFeedOptions) {}

  /** Calls `listener` for each stage event of the turn from now on; resolves with the unsubscribe. */
  async subscribe(turnId: string, listener: Listener): Promise<() => void> {
    if (this.closed) throw new Error('the stage progress feed is closed');
    await this.open();
    let set = this.listeners.get(turnId);
    if (!set) this.listeners.set(turnId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(turnId) === set) this.listeners.delete(turnId);
    };
  }

  /** The turn's stage jobs as they are in the queues now. */
  async activity(turnId: string): Promise<StageActivity> {
    const states = await Promise.all(this.options.queues.map(async (queue) => ({ stage: queue.name as StageName, state: await queue.getJobState(stageJobId(turnId, queue.name as StageName)) })));
    return { running: states.filter((s) => s.state === 'active').map((s) => s.stage), pending: states.some((s) => PENDING_STATES.has(s.state)) };
  }

  /** Turns with a listener now (for tests and health). */
  get watchedTurns(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const events = await this.opening?.catch(() => []);
    await Promise.all((events ?? []).map((e) => e.close()));
  }

  private open(): Promise<QueueEvents[]> {
    this.opening ??= (async () => {
      const opened = await Promise.allSettled(this.options.queues.map((queue) => this.listen(queue)));
      const failed = opened.find((o) => o.status === 'rejected');
      if (!failed) return opened.map((o) => (o as PromiseFulfilledResult<QueueEvents>).value);
      // None half-open: close the ones that did open; the next subscriber tries again.
      await Promise.all(opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value.close()] : [])));
      this.opening = undefined;
      throw failed.reason;
    })();
    return this.opening;
  }

  private async listen(queue: Queue): Promise<QueueEvents> {
    const stage = queue.name as StageName;
    const events = await openQueueEvents(queue, this.options.connection, this.options.prefix);
    const suffix = `.${stage}`;
    const emit = (jobId: string, status: StageStatus, until?: number) => {
      if (!jobId.endsWith(suffix)) return; // batch chunks and service calls share the stt queue
      const progress: StageProgress = { stage, status, ...(until ? { until: new Date(until).toISOString() } : {}) };
      for (const listener of this.listeners.get(jobId.slice(0, -suffix.length)) ?? []) {
        // A throw would reach BullMQ's event loop and stop it for every listener.
        try {
          listener(progress);
        } catch (error) {
          this.options.onListenerError?.(error);
        }
      }
    };
    events.on('active', ({ jobId }) => emit(jobId, 'running'));
    // A stage job is only ever delayed, or put back to wait from active, after an attempt.
    events.on('delayed', ({ jobId, delay }) => emit(jobId, 'waiting', delay));
    events.on('waiting', ({ jobId, prev }) => {
      if (prev === 'active') emit(jobId, 'waiting');
    });
    events.on('completed', ({ jobId }) => emit(jobId, 'completed'));
    events.on('failed', ({ jobId }) => emit(jobId, 'failed'));
    return events;
  }
}
