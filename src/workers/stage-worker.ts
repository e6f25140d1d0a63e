// One BullMQ worker for one stage queue, running that stage through the stage runner.
import { hostname } from 'node:os';
import { Worker, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StageJobData } from '../shared/contracts/jobs.js';
import type { StageName } from '../shared/contracts/turn.js';
import { createStageProcessor, stageBackoff, type Stage } from './run-stage.js';
import type { StageDeps } from './stage-deps.js';
import { sttStage } from './stt-stage.js';
import { llmStage } from './llm-stage.js';
import { ttsStage } from './tts-stage.js';

export const STAGE_DEFINITIONS: { [S in StageName]: Stage<S> } = { stt: sttStage, llm: llmStage, tts: ttsStage };

export interface StageWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  telemetry?: Telemetry | undefined;
  /** Start paused (tests and benchmarks that queue work first). */
  autorun?: boolean;
}

export function createStageWorker(stage: StageName, deps: StageDeps, options: StageWorkerOptions): Worker<StageJobData> {
  const worker = new Worker<StageJobData>(stage, createStageProcessor(STAGE_DEFINITIONS[stage] as Stage<StageName>, deps), {
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
  return worker;
}
