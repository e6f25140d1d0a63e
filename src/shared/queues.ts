// The three stage queues and the options every stage job gets. One place decides retries,
// backoff and retention, so the SDK and the stages enqueue alike.
import { context, type Context } from '@opentelemetry/api';
import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import { STAGE_JOB_NAME, stageJobId, type StageJobData } from './contracts/jobs.js';
import { STAGES, type StageName } from './contracts/turn.js';
import { quietOnOutage } from './redis.js';

/** The backoff type the stage runner's backoffStrategy understands (reads retry-after). */
export const STAGE_BACKOFF_TYPE = 'voxq';

export interface StageQueueOptions {
  connection: RedisClient;
  prefix: string;
  attempts: number;
  telemetry?: Telemetry | undefined;
}

export class StageQueues {
  private readonly queues: Record<StageName, Queue<StageJobData>>;
  private closed = false;

  constructor(private readonly options: StageQueueOptions) {
    const make = (name: StageName) =>
      quietOnOutage(
        new Queue<StageJobData>(name, {
          connection: options.connection,
          prefix: options.prefix,
          ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        }),
      );
    this.queues = { stt: make('stt'), llm: make('llm'), tts: make('tts') };
  }

  /** The connection the queues add jobs on (ordinary commands may share it). */
  get connection(): RedisClient {
    return this.options.connection;
  }

  get(stage: StageName): Queue<StageJobData> {
    return this.queues[stage];
  }

  all(): Queue<StageJobData>[] {
    return STAGES.map((s) => this.queues[s]);
  }

  /**
   * Adds the stage's job for a turn; adding it again while it exists is a no-op (same job id).
   * `parent`: the trace context the job continues (the stage's span, the request's): BullMQ
   * reads it as it adds and carries it in the job to the worker that takes it.
   */
  async add(stage: StageName, data: StageJobData, parent?: Context): Promise<void> {
    const add = () => this.queues[stage].add(STAGE_JOB_NAME, data, this.jobOptions(stageJobId(data.turnId, stage, data.sentence)));
    await (parent ? context.with(parent, add) : add());
  }

  /** No priority: live turns run before any prioritized (batch) job, on BullMQ's fastest path. */
  private jobOptions(jobId: string): JobsOptions {
    return {
      jobId,
      attempts: this.options.attempts,
      backoff: { type: STAGE_BACKOFF_TYPE },
      // Kept a while for Bull Board; the turn document is the durable record.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.all().map((q) => q.close()));
  }
}
