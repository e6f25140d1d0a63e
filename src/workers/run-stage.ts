// The stage runner: written once, wrapped around every stage. It validates the job, loads the
// turn, skips work already recorded, runs the stage under a timeout, records the output
// idempotently, hands the turn on, and owns retries, tracing attributes, metrics and the
// failed-turn record. A stage file only says what its stage does.
import { trace, type Context } from '@opentelemetry/api';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { stageJobSchema, type StageJobData } from '../shared/contracts/jobs.js';
import type { StageName, StageOutputs, StageTiming, Turn, TurnError } from '../shared/contracts/turn.js';
import { VoxqError } from '../shared/errors.js';
import { isProviderError, ProviderError } from '../shared/providers/provider-error.js';
import { currentTraceContext, spanEvent } from '../shared/telemetry/span-helpers.js';
import type { StageDeps } from './stage-deps.js';

export interface StageRun {
  job: Job<StageJobData>;
  /** The job's lock token (for moveToDelayed: waiting for a rate limit or GPU memory spends no attempt). */
  token: string | undefined;
  /** Aborted on the stage timeout (and, later, on barge-in). */
  signal: AbortSignal;
  deps: StageDeps;
  /** The stage span's context: the parent of provider spans, store events and the next stage's job. */
  trace: Context;
}

export interface Stage<S extends StageName> {
  name: S;
  /** Does the stage's work and returns what is recorded on the turn. */
  run(turn: Turn, run: StageRun): Promise<StageOutputs[S]>;
  /** Hands the turn on once its output is recorded (also when a re-delivered job finds it recorded). */
  handOff(turn: Turn, run: StageRun): Promise<void>;
  /**
   * The stage failed for good. Returns true when the turn can still end well without this
   * stage's result (it then does so itself); otherwise the runner fails the turn.
   */
  recover?(turnId: string, failure: TurnError, run: StageRun): Promise<boolean>;
}

/** A stage's timing, finished now: queued when the job was added, started at `startedAt`, on this attempt. */
export function stageTiming(job: Pick<Job, 'timestamp' | 'attemptsMade'>, startedAt: Date): StageTiming {
  const finishedAt = new Date();
  return {
    enqueuedAt: new Date(job.timestamp),
    startedAt,
    finishedAt,
    queueWaitMs: Math.max(0, startedAt.getTime() - job.timestamp),
    workMs: finishedAt.getTime() - startedAt.getTime(),
    attempts: job.attemptsMade + 1,
  };
}

/** Why a turn failed, for people (message) and machines (code). */
function describeFailure(stage: StageName, error: unknown): TurnError {
  if (isProviderError(error)) {
    return { stage, code: `provider_${error.kind}`, message: error.message };
  }
  if (error instanceof VoxqError) return { stage, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { stage, code: 'internal', message };
}

/** Unknown errors (a dropped database connection, say) are retried; known ones say for themselves. */
function isRetryable(error: unknown): boolean {
  if (isProviderError(error)) return error.retryable;
  if (error instanceof VoxqError) return false;
  return true;
}

export function createStageProcessor<S extends StageName>(stage: Stage<S>, deps: StageDeps): Processor<StageJobData> {
  const { turns, metrics, log } = deps;

  return async (job, token) => {
    // BullMQ calls the processor inside the stage span's context; it is only active until the first await.
    const traceContext = currentTraceContext();
    const startedAt = new Date();
    const parsed = stageJobSchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ jobId: job.id, stage: stage.name, issues: parsed.error.issues.length }, 'stage job data is invalid');
      throw new UnrecoverableError(`invalid ${stage.name} job data: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    }
    const { turnId, sessionId } = parsed.data;
    const span = trace.getSpan(traceContext);
    span?.setAttributes({
      'voxq.turn.id': turnId,
      'voxq.session.id': sessionId,
      'voxq.stage': stage.name,
      'voxq.attempt': job.attemptsMade + 1,
      'voxq.stage.queue_wait_ms': Math.max(0, startedAt.getTime() - job.timestamp),
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': stage.name,
      'messaging.message.id': job.id ?? '',
    });

    const turn = await turns.get(turnId);
    if (!turn) throw new UnrecoverableError(`turn ${turnId} does not exist`);
    if (turn.status === 'failed' || turn.status === 'completed') return { skipped: turn.status };

    // A GPU-pinned worker reserves the job's working memory first; when the card is short the
    // job goes back to the queue (DelayedError, no attempt spent) before anything is recorded.
    const gpuLease = turn.stages[stage.name] ? undefined : await deps.gpu?.reserveForJob(job, token, stage.name);
    const deadline = stageDeadline(deps.settings.stageTimeoutMs);
    const run: StageRun = { job, token, signal: deadline.signal, deps, trace: traceContext };
    let current = turn;
    try {
      if (!current.stages[stage.name]) {
        if (current.status === 'queued') await turns.markRunning(turnId);
        const output = await stage.run(current, run);
        const timing = stageTiming(job, startedAt);
        current = await turns.recordStage(turnId, stage.name, output, timing);
        spanEvent(traceContext, 'voxq.store.stage_recorded');
        metrics.timing('voxq.stage.duration', timing.workMs, { stage: stage.name });
        metrics.timing('voxq.stage.queue_wait', timing.queueWaitMs, { stage: stage.name });
      }
      await stage.handOff(current, run);
    } catch (caught) {
      const error = asTimeout(caught, run.signal);
      await onStageError(stage, run, turnId, error);
      throw error;
    } finally {
      deadline.clear();
      await gpuLease?.release().catch((error: unknown) => log.warn({ turnId, stage: stage.name, err: error }, 'gpu lease release failed; it expires on its own'));
    }
    return { recorded: stage.name };
  };
}

/**
 * The stage timeout's signal, aborted as AbortSignal.timeout() would be (a TimeoutError), but
 * with its timer cleared when the job ends: AbortSignal.timeout() keeps a weakly held timer
 * per job alive until it fires or is collected, which costs more than the stage itself on a
 * fast path (the spine benchmark runs three per turn).
 */
function stageDeadline(timeoutMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Our own stage timeout aborts the provider call: report it as a timeout (retryable). */
function asTimeout(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && isProviderError(error) && error.kind === 'aborted') {
    return new ProviderError(`${error.provider}: no answer within the stage timeout`, {
      kind: 'timeout',
      provider: error.provider,
      cause: error,
    });
  }
  return error;
}

async function onStageError<S extends StageName>(stage: Stage<S>, run: StageRun, turnId: string, error: unknown): Promise<void> {
  const { job, deps } = run;
  const { metrics, log } = deps;
  const kind = isProviderError(error) ? error.kind : error instanceof VoxqError ? error.code : 'internal';
  metrics.increment('voxq.stage.errors', 1, { stage: stage.name, kind });
  const attempts = job.opts.attempts ?? 1;
  const lastAttempt = job.attemptsMade + 1 >= attempts;
  if (isRetryable(error) && !lastAttempt) {
    log.warn({ turnId, stage: stage.name, kind, attempt: job.attemptsMade + 1, attempts }, 'stage failed, will retry');
    return;
  }
  const failure = describeFailure(stage.name, error);
  if (await stage.recover?.(turnId, failure, run)) {
    log.warn({ turnId, stage: stage.name, code: failure.code }, 'stage failed; the turn goes on without it');
    throw new UnrecoverableError(failure.message);
  }
  log.warn({ turnId, stage: stage.name, code: failure.code }, 'turn failed');
  await failTurn(turnId, failure, deps);
  throw new UnrecoverableError(failure.message);
}

export async function failTurn(turnId: string, failure: TurnError, deps: Pick<StageDeps, 'turns' | 'events' | 'metrics'>): Promise<void> {
  if (await deps.turns.fail(turnId, failure, new Date())) {
    deps.metrics.increment('voxq.turns', 1, { outcome: 'failed', stage: failure.stage });
    await deps.events.publish({ turnId, status: 'failed', stage: failure.stage === 'enqueue' ? undefined : failure.stage });
  }
}

/** BullMQ backoff for stage jobs: the provider's retry-after when it gave one, else exponential with jitter. */
export function stageBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  if (isProviderError(error) && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 120_000);
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
