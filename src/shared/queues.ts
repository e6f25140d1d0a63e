// The stage queues and the options every stage job gets. One place decides retries, backoff and
// retention, so the SDK and the stages enqueue alike. Sharded (src/shared/shards/), each stage
// has one queue per shard, and a turn's jobs go to its session's shard.
import { context, type Context } from '@opentelemetry/api';
import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import { STAGE_JOB_NAME, stageJobId, type StageJobData } from './contracts/jobs.js';
import { STAGES, type StageName } from './contracts/turn.js';
import { quietOnOutage, type RedisClient } from './redis.js';
import { QueueShards } from './shards/queue-shards.js';

/** The backoff type the stage runner's backoffStrategy understands (reads retry-after). */
export const STAGE_BACKOFF_TYPE = 'voxq';

export interface StageQueueOptions {
  connection: RedisClient;
  prefix: string;
  attempts: number;
  telemetry?: Telemetry | undefined;
  /** The queue shards (src/shared/shards/queue-shards.ts); default: unsharded under `prefix`. */
  shards?: QueueShards;
}

export class StageQueues {
  /** By stage, one queue per shard. */
  private readonly queues: Record<StageName, Queue<StageJobData>[]>;
  readonly shards: QueueShards;
  private closed = false;

  constructor(private readonly options: StageQueueOptions) {
    const shards = options.shards ?? QueueShards.unsharded(options.prefix);
    this.shards = shards;
    const make = (stage: StageName) =>
      shards.indexes().map((shard) =>
        quietOnOutage(
          new Queue<StageJobData>(shards.queueName(stage, shard), {
            connection: options.connection,
            prefix: shards.queuePrefix(shard),
            ...(options.telemetry ? { telemetry: options.telemetry } : {}),
          }),
        ),
      );
    this.queues = { stt: make('stt'), llm: make('llm'), tts: make('tts') };
  }

  /** The connection the queues add jobs on (ordinary commands may share it). */
  get connection(): RedisClient {
    return this.options.connection;
  }

  /** The stage's queue for a session's turns (sharded: its shard's; unsharded: the one queue). */
  get(stage: StageName, sessionId?: string): Queue<StageJobData> {
    if (sessionId === undefined && this.shards.count > 1) throw new Error(`the ${stage} stage has ${this.shards.count} queues: name the session whose queue you mean`);
    return this.shard(stage, sessionId === undefined ? 0 : this.shards.shardOf(sessionId));
  }

  /** The stage's queue on shard `index`. */
  shard(stage: StageName, index: number): Queue<StageJobData> {
    const queue = this.queues[stage][index];
    if (!queue) throw new RangeError(`no shard ${index} (of ${this.shards.count})`);
    return queue;
  }

  /** Every stage queue, by stage then shard. */
  all(): Queue<StageJobData>[] {
    return STAGES.flatMap((s) => this.queues[s]);
  }

  /**
   * Adds the stage's job for a turn; adding it again while it exists is a no-op (same job id).
   * `parent`: the trace context the job continues (the stage's span, the request's): BullMQ
   * reads it as it adds and carries it in the job to the worker that takes it.
   */
  async add(stage: StageName, data: StageJobData, parent?: Context): Promise<void> {
    const add = () => this.get(stage, data.sessionId).add(STAGE_JOB_NAME, data, this.jobOptions(stageJobId(data.turnId, stage, data.sentence)));
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
