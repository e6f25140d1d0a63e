// One BullMQ worker for one stage queue, running that stage through the stage runner.
import { hostname } from 'node:os';
import { Worker, type Processor, type Telemetry } from 'bullmq';
import type { RedisClient } from '../shared/redis.js';
import { stageJobSchema, type StageJobData } from '../shared/contracts/jobs.js';
import { SERVICE_CALL_JOB_NAME } from '../shared/contracts/service-calls.js';
import type { StageName } from '../shared/contracts/turn.js';
import { createBatchProcessor, isBatchJob, type BatchWorkerDeps } from './batch-stt.js';
import { createServiceCallProcessor } from './run-service-call.js';
import { createStageProcessor, describeFailure, stageBackoff, type Stage } from './run-stage.js';
import type { StageDeps } from './stage-deps.js';
import type { RequestWindow } from '../shared/rate-limit/request-window.js';
import { createSttStage, sttStage } from './stt-stage.js';
import { llmStage } from './llm-stage.js';
import { ttsStage } from './tts-stage.js';

export const STAGE_DEFINITIONS: { [S in StageName]: Stage<S> } = { stt: sttStage, llm: llmStage, tts: ttsStage };

export interface StageWorkerOptions {
  connection: RedisClient;
  prefix: string;
  /** The BullMQ queue (default: the stage's name; sharded: `<stage>.<shard>` under the shard's prefix). */
  queueName?: string;
  concurrency: number;
  lockDurationMs: number;
  telemetry?: Telemetry | undefined;
  /** Start paused (tests and benchmarks that queue work first). */
  autorun?: boolean;
  /** `stt` only: also run batch jobs (src/workers/batch-stt.ts). */
  batch?: BatchWorkerDeps;
  /** `stt` only: the provider's shared request window, for live turns (batch jobs take theirs through `batch`). */
  requests?: RequestWindow;
}

export function createStageWorker(stage: StageName, deps: StageDeps, options: StageWorkerOptions): Worker<StageJobData> {
  const definition = stage === 'stt' && options.requests ? createSttStage(options.requests) : STAGE_DEFINITIONS[stage];
  const stageProcessor = createStageProcessor(definition as Stage<StageName>, deps);
  const batch = stage === 'stt' && options.batch ? createBatchProcessor(options.batch) : undefined;
  // Service calls (ServiceClient.call: this stage's work outside any turn) share the queue too.
  const call = createServiceCallProcessor(stage, deps, { prefix: options.prefix, requests: stage === 'stt' ? options.requests : undefined });
  // Batch jobs share the stt queue (and the provider's limits) with live turns; the job name tells them apart.
  const processor: Processor<StageJobData> = (job, token) => {
    if (job.name === SERVICE_CALL_JOB_NAME) return call(job, token);
    if (batch && isBatchJob(job.name)) return batch(job);
    return stageProcessor(job, token);
  };
  const worker = new Worker<StageJobData>(options.queueName ?? stage, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
    maxStalledCount: 3,
    // Identifies this worker in BullMQ's worker list (health = live workers and their hosts).
    name: `${hostname()}:${process.pid}`,
    settings: { backoffStrategy: stageBackoff },
    autorun: options.autorun ?? true,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
  });
  worker.on('error', (error) => deps.log.error({ stage, err: error }, 'worker error'));
  // Every way a live job ends for good ends its turn: the runner fails the turns it can, and this
  // catches the rest (an error before the stage's own handling on the last attempt, an
  // unrecoverable job). Failing an ended turn again changes nothing.
  worker.on('failed', (job, error) => {
    if (!job || isBatchJob(job.name) || job.name === SERVICE_CALL_JOB_NAME) return;
    const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const parsed = stageJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    const { turnId, sessionId } = parsed.data;
    deps.ender.fail({ turnId, sessionId }, describeFailure(stage, error)).catch((failure: unknown) => {
      deps.log.warn({ turnId, stage, err: failure }, 'could not record the failed turn; the reconciler will');
    });
  });
  return worker;
}
