// The stage runner: written once, wrapped around every stage. It validates the job, loads the
// turn from its live state in Redis (the record in MongoDB only when that is gone), checks the
// cancel fence, runs the stage under a timeout and the turn's cancel signal, records the output
// in the live state (first write wins, fenced) and hands the turn on, with the durable MongoDB
// record written beside the hand-off. It owns retries, tracing attributes, metrics and the
// failed-turn end. A stage file only says what its stage does.
import { trace, type Context } from '@opentelemetry/api';
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { stageJobSchema, type StageJobData } from '../shared/contracts/jobs.js';
import { isFinalStatus, type StageName, type StageOutputs, type StageTiming, type Turn, type TurnError } from '../shared/contracts/turn.js';
import { VoxqError } from '../shared/errors.js';
import { isInfrastructureOutage } from '../shared/infra-errors.js';
import type { TurnRef } from '../shared/live/live-turns.js';
import { isProviderError, ProviderError } from '../shared/providers/provider-error.js';
import { parseStageRecord } from '../shared/store/stage-record.js';
import { currentTraceContext, spanEvent } from '../shared/telemetry/span-helpers.js';
import type { StageDeps } from './stage-deps.js';

export interface StageRun {
  job: Job<StageJobData>;
  /** The job's lock token (for moveToDelayed: waiting for a rate limit or GPU memory spends no attempt). */
  token: string | undefined;
  /** Aborted on the stage timeout and when the turn is cancelled (on any host). */
  signal: AbortSignal;
  deps: StageDeps;
  /** The stage span's context: the parent of provider spans, store events and the next stage's job. */
  trace: Context;
  /** The turn's live state and log. */
  ref: TurnRef;
}

export interface Stage<S extends StageName> {
  name: S;
  /**
   * Does the stage's work and returns what is recorded on the turn; undefined when this job
   * records nothing of its own (a sentence of the reply: the turn's end records the joined audio).
   */
  run(turn: Turn, run: StageRun): Promise<StageOutputs[S] | undefined>;
  /** Hands the turn on once its output is recorded (also when a re-delivered job finds it recorded). */
  handOff(turn: Turn, run: StageRun): Promise<void>;
  /**
   * The stage failed for good. Returns true when the turn can still end well without this
   * stage's result (it then does so itself); otherwise the runner fails the turn.
   */
  recover?(turnId: string, failure: TurnError, run: StageRun): Promise<boolean>;
}

/** Thrown by a stage that finds its turn cancelled (the fence): the job ends quietly, without a retry. */
export class TurnEndedError extends Error {
  override readonly name = 'TurnEndedError';
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
export function describeFailure(stage: StageName, error: unknown): TurnError {
  if (isProviderError(error)) {
    return { stage, code: `provider_${error.kind}`, message: error.message };
  }
  if (error instanceof VoxqError) return { stage, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { stage, code: 'internal', message };
}

/** Unknown errors (a dropped database connection, say) are retried; known ones say for themselves. */
export function isRetryable(error: unknown): boolean {
  if (isProviderError(error)) return error.retryable;
  if (error instanceof VoxqError) return false;
  return true;
}

export function createStageProcessor<S extends StageName>(stage: Stage<S>, deps: StageDeps): Processor<StageJobData> {
  const process = stageProcessor(stage, deps);
  // Outages of MongoDB or Redis, wherever they surface (loading the turn, recording, handing on),
  // are waited out here, without spending an attempt; a shutdown hands the job back at once.
  return async (job, token): Promise<unknown> => {
    try {
      return await process(job, token);
    } catch (error) {
      if (error instanceof ShutdownError) return handBack(job, token);
      if (error instanceof DelayedError || error instanceof UnrecoverableError || !isInfrastructureOutage(error)) throw error;
      return waitOutOutage(stage.name, job, token, error, deps);
    }
  };
}

/** Thrown out of a job whose worker process is shutting down: the job goes back to its queue at once. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
}

export async function handBack(job: Job, token: string | undefined): Promise<never> {
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError();
}

/** Backoff while a store is down: about a second, a little random so jobs do not come back in step. */
const OUTAGE_RETRY_MS = 1000;

async function waitOutOutage(stage: StageName, job: Job<StageJobData>, token: string | undefined, error: unknown, deps: StageDeps): Promise<never> {
  const since = job.data.outageSince ?? Date.now();
  const waitedMs = Date.now() - since;
  const { log } = deps;
  if (waitedMs > deps.settings.outageToleranceMs) {
    log.error({ jobId: job.id, stage, waitedMs, err: error }, 'a store stayed unreachable past VOXQ_OUTAGE_TOLERANCE_MS: the turn fails');
    const { turnId, sessionId } = job.data;
    await deps.ender
      .fail({ turnId, sessionId }, { stage, code: 'store_unavailable', message: `MongoDB or Redis stayed unreachable for ${Math.round(waitedMs / 1000)} s` })
      .catch(() => undefined);
    throw new UnrecoverableError('store unavailable past the outage tolerance');
  }
  log.warn({ jobId: job.id, stage, waitedMs, err: error }, 'a store is unreachable: the job waits it out (no attempt spent)');
  deps.metrics.increment('voxq.stage.outage_waits', 1, { stage });
  await job.updateData({ ...job.data, outageSince: since });
  await job.moveToDelayed(Date.now() + OUTAGE_RETRY_MS / 2 + Math.random() * OUTAGE_RETRY_MS, token);
  throw new DelayedError();
}

function stageProcessor<S extends StageName>(stage: Stage<S>, deps: StageDeps): Processor<StageJobData, unknown> {
  const { turns, metrics, log, live } = deps;

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
    const ref: TurnRef = { turnId, sessionId };
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
      ...(parsed.data.sentence !== undefined ? { 'voxq.sentence.index': parsed.data.sentence } : {}),
    });

    // The fence, before any work: a turn that has ended (cancelled, failed, completed) runs nothing more.
    const loaded = await live.load(ref);
    if (loaded.ended) {
      // An ending claimed but never written (its writer died or a store failed half-way) is finished by whoever comes next.
      if (!loaded.endWritten) await deps.ender.resume(ref);
      return { skipped: loaded.ended };
    }
    const turn = loaded.turn ?? (await turns.get(turnId));
    if (!turn) throw new UnrecoverableError(`turn ${turnId} does not exist`);
    if (isFinalStatus(turn.status)) return { skipped: turn.status };

    const cancel = new AbortController();
    const unregister = deps.active.register(turnId, cancel);
    // A GPU-pinned worker reserves the job's working memory first; when the card is short the
    // job goes back to the queue (DelayedError, no attempt spent) before anything is recorded.
    const gpuLease = turn.stages[stage.name] ? undefined : await deps.gpu?.reserveForJob(job, token, stage.name);
    const deadline = stageDeadline(deps.settings.stageTimeoutMs);
    const run: StageRun = { job, token, signal: AbortSignal.any([deadline.signal, cancel.signal]), deps, trace: traceContext, ref };
    let current = turn;
    let durable: Promise<unknown> = Promise.resolve();
    try {
      if (!current.stages[stage.name]) {
        if (stage.name !== 'tts' && (await live.claimRunning(ref))) durable = beside(turns.markRunning(turnId));
        // The LLM stage announces itself once it may run (after the session's earlier turns).
        if (stage.name === 'stt') await live.append(ref, { type: 'stage', at: Date.now(), stage: 'stt', status: 'running' });
        const output = await stage.run(current, run);
        if (output !== undefined) {
          const record = await live.recordOutput(ref, stage.name, parseStageRecord(stage.name, output, stageTiming(job, startedAt)));
          if (record === null) throw new TurnEndedError(`turn ${turnId} ended while its ${stage.name} stage ran`);
          current = { ...current, stages: { ...current.stages, [stage.name]: record } };
          // The durable record, beside the hand-off: the job ends only once it is written.
          durable = beside(durable.then(() => turns.saveStage(turnId, stage.name, record)));
          spanEvent(traceContext, 'voxq.store.stage_recorded');
        }
        const timing = stageTiming(job, startedAt);
        metrics.timing('voxq.stage.duration', timing.workMs, { stage: stage.name });
        metrics.timing('voxq.stage.queue_wait', timing.queueWaitMs, { stage: stage.name });
      }
      await stage.handOff(current, run);
      await durable;
    } catch (caught) {
      await durable.catch(() => undefined);
      if (caught instanceof DelayedError) throw caught;
      if (cancel.signal.reason instanceof ShutdownError) throw cancel.signal.reason;
      // An unreachable store is waited out by the caller (createStageProcessor), not counted as the turn's failure.
      if (isInfrastructureOutage(caught)) throw caught;
      if (caught instanceof TurnEndedError || cancel.signal.aborted || (await live.isEnded(ref))) {
        log.debug({ turnId, stage: stage.name }, 'turn ended while the stage ran; its work is dropped');
        return { skipped: 'ended' };
      }
      const error = asTimeout(caught, deadline.signal);
      await onStageError(stage, run, turnId, error);
      throw error;
    } finally {
      unregister();
      deadline.clear();
      await gpuLease?.release().catch((error: unknown) => log.warn({ turnId, stage: stage.name, err: error }, 'gpu lease release failed; it expires on its own'));
    }
    return { recorded: stage.name };
  };
}

/**
 * A write that runs beside the stage and is awaited at its end: marked handled now, so that it
 * failing while the stage still runs is not an unhandled rejection (awaiting it still throws).
 */
function beside<T>(write: Promise<T>): Promise<T> {
  write.catch(() => undefined);
  return write;
}

/**
 * The stage timeout's signal, aborted as AbortSignal.timeout() would be (a TimeoutError), but
 * with its timer cleared when the job ends: AbortSignal.timeout() keeps a weakly held timer
 * per job alive until it fires or is collected, which costs more than the stage itself on a
 * fast path (the spine benchmark runs three per turn).
 */
export function stageDeadline(timeoutMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Our own stage timeout aborts the provider call: report it as a timeout (retryable). */
export function asTimeout(error: unknown, signal: AbortSignal): unknown {
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
  await failTurn(run.ref, failure, deps);
  throw new UnrecoverableError(failure.message);
}

export async function failTurn(ref: TurnRef, failure: TurnError, deps: Pick<StageDeps, 'ender'>): Promise<void> {
  await deps.ender.fail(ref, failure);
}

/** BullMQ backoff for stage jobs: the provider's retry-after when it gave one, else exponential with jitter. */
export function stageBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  if (isProviderError(error) && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 120_000);
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
