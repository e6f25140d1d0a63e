// Stage progress of turns, heard from BullMQ's own event streams (one QueueEvents per stage
// queue, opened on first use and shared by every listener of this process). Stage jobs are
// named after their turn (`<turnId>.<stage>`), so an event finds its turn without a lookup,
// and the workers publish nothing extra for it.
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StageName } from '../../shared/contracts/turn.js';
import { openQueueEvents } from '../../shared/queue-events.js';

export type StageStatus = 'running' | 'completed' | 'failed';

export interface StageProgress {
  stage: StageName;
  status: StageStatus;
}

type Listener = (progress: StageProgress) => void;

export interface StageProgressFeedOptions {
  /** The stage queues (their names are the stages). */
  queues: readonly Queue[];
  /** Reads each stream's end; QueueEvents get their own blocking connections. */
  connection: Redis;
  prefix: string;
}

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
    this.opening ??= Promise.all(this.options.queues.map((queue) => this.listen(queue))).catch((error: unknown) => {
      this.opening = undefined; // the next subscriber tries again
      throw error;
    });
    return this.opening;
  }

  private async listen(queue: Queue): Promise<QueueEvents> {
    const stage = queue.name as StageName;
    const events = await openQueueEvents(queue, this.options.connection, this.options.prefix);
    const suffix = `.${stage}`;
    const emit = (jobId: string, status: StageStatus) => {
      if (!jobId.endsWith(suffix)) return; // batch chunks and service calls share the stt queue
      for (const listener of this.listeners.get(jobId.slice(0, -suffix.length)) ?? []) listener({ stage, status });
    };
    events.on('active', ({ jobId }) => emit(jobId, 'running'));
    events.on('completed', ({ jobId }) => emit(jobId, 'completed'));
    events.on('failed', ({ jobId }) => emit(jobId, 'failed'));
    return events;
  }
}
