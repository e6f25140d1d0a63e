// The stage runner for service calls (`call` jobs, src/shared/bullmq-service-client.ts): the
// same retries (a retryable provider error runs again with the stage backoff, which reads
// retry-after), stage timeout, span attributes, metrics, GPU lease, STT request window and
// shutdown hand-back as a turn's stage — without the turn: no live state, no fence, no event
// log, no hand-off, nothing written to MongoDB. The answer (or, once the attempts are spent, the
// failure with its code and retryable flag) goes to the call's Redis hash for the caller.
import { trace as otelTrace } from '@opentelemetry/api';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { ZodError } from 'zod';
import { serviceCallJobSchema, type ServiceCallFailure } from '../shared/contracts/service-calls.js';
import type { StageName } from '../shared/contracts/turn.js';
import type { GpuLease } from '../shared/ports/gpu-manager.js';
import { VoxqError } from '../shared/errors.js';
import { isProviderError, ProviderError } from '../shared/providers/provider-error.js';
import type { RequestWindow } from '../shared/rate-limit/request-window.js';
import { CallStore } from '../shared/service-calls/call-store.js';
import { currentTraceContext } from '../shared/telemetry/span-helpers.js';
import { asTimeout, describeFailure, handBack, isRetryable, ShutdownError, stageDeadline } from './run-stage.js';
import type { StageDeps } from './stage-deps.js';
import { STAGE_SERVICES, type ServiceRun } from './stage-services.js';

export interface ServiceCallProcessorOptions {
  prefix: string;
  /** `stt`: the provider's shared request window (a call takes a live slot, as a turn does). */
  requests?: RequestWindow | undefined;
}

export function createServiceCallProcessor<S extends StageName>(stage: S, deps: StageDeps, options: ServiceCallProcessorOptions): (job: Job, token: string | undefined) => Promise<unknown> {
  const calls = new CallStore(deps.queues.connection, options.prefix);
  const { log, metrics } = deps;

  return async (job, token) => {
    const trace = currentTraceContext(); // the job's span, active until the first await
    const startedAt = Date.now();
    const parsed = serviceCallJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${stage} call job data: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const { callId } = parsed.data;
    otelTrace.getSpan(trace)?.setAttributes({
      'voxq.call.id': callId,
      'voxq.stage': stage,
      'voxq.attempt': job.attemptsMade + 1,
      'voxq.stage.queue_wait_ms': Math.max(0, startedAt - job.timestamp),
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': stage,
      'messaging.message.id': job.id ?? '',
    });
    const loaded = await calls.getRequest(stage, callId).catch(async (error: unknown) => {
      // A request this worker cannot read (another voxq version's, say) fails the call at once: retrying cannot help.
      if (!(error instanceof ZodError || error instanceof SyntaxError)) throw error;
      const failure: ServiceCallFailure = { code: 'invalid_call_request', message: `call ${callId}: its ${stage} request does not match this worker's schema`, retryable: false };
      await calls.putFailure(callId, failure);
      throw new UnrecoverableError(failure.message);
    });
    // Withdrawn by a caller that stopped waiting, or expired: nobody wants the answer.
    if (!loaded) throw new UnrecoverableError(`call ${callId} was withdrawn or expired before a worker took it`);

    const cancel = new AbortController();
    const unregister = deps.active.register(callId, cancel);
    const deadline = stageDeadline(deps.settings.stageTimeoutMs);
    const run: ServiceRun = { deps, trace, signal: AbortSignal.any([deadline.signal, cancel.signal]) };
    let gpuLease: GpuLease | undefined;
    try {
      // A GPU-pinned worker reserves the job's working memory first; a short card sends the job back (no attempt spent).
      gpuLease = await deps.gpu?.reserveForJob(job, token, stage);
      if (stage === 'stt') await takeSttSlot(job, token, callId, loaded.request as { durationMs: number }, deps, options.requests);
      const answer = await STAGE_SERVICES[stage](loaded.request, loaded.audio, run);
      await calls.putOutput(callId, answer.output, answer.audio);
      const workMs = Date.now() - startedAt;
      metrics.timing('voxq.stage.duration', workMs, { stage, job: 'call' });
      metrics.timing('voxq.stage.queue_wait', Math.max(0, startedAt - job.timestamp), { stage, job: 'call' });
      return { callId };
    } catch (caught) {
      if (caught instanceof DelayedError) throw caught;
      if (cancel.signal.reason instanceof ShutdownError) return handBack(job, token);
      const error = asTimeout(caught, deadline.signal);
      const kind = isProviderError(error) ? error.kind : error instanceof VoxqError ? error.code : 'internal';
      metrics.increment('voxq.stage.errors', 1, { stage, kind, job: 'call' });
      const attempts = job.opts.attempts ?? 1;
      if (isRetryable(error) && job.attemptsMade + 1 < attempts) {
        log.warn({ callId, stage, kind, attempt: job.attemptsMade + 1, attempts }, 'service call failed, will retry');
        throw error;
      }
      const failure = failureOf(stage, error);
      log.warn({ callId, stage, code: failure.code }, 'service call failed');
      await calls.putFailure(callId, failure).catch((stored: unknown) => log.warn({ callId, err: stored }, 'could not store the call failure'));
      throw new UnrecoverableError(failure.message);
    } finally {
      unregister();
      deadline.clear();
      await gpuLease?.release().catch((error: unknown) => log.warn({ callId, stage, err: error }, 'gpu lease release failed; it expires on its own'));
    }
  };
}

/** What the caller is told: the provider's code and whether a later call could succeed. */
function failureOf(stage: StageName, error: unknown): ServiceCallFailure {
  const { code, message } = describeFailure(stage, error);
  if (isProviderError(error)) {
    return { code, message, retryable: error.retryable, provider: error.provider, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) };
  }
  return { code, message, retryable: isRetryable(error) };
}

/** A real STT provider's limits, as for a live turn: the job waits in its queue (no attempt spent) when they are full. */
async function takeSttSlot(job: Job, token: string | undefined, callId: string, request: { durationMs: number }, deps: StageDeps, requests: RequestWindow | undefined): Promise<void> {
  const slot = await requests?.acquire('live', callId);
  if (slot && slot.waitMs > 0) {
    deps.metrics.increment('voxq.stt.rate_limited', 1, { caller: 'call', limit: 'requests' });
    await job.moveToDelayed(Date.now() + slot.waitMs, token);
    throw new DelayedError();
  }
  const reservation = await deps.audioBudget?.reserve(callId, request.durationMs, 'live');
  if (reservation && reservation.waitMs > 0) {
    await slot?.release();
    const provider = deps.providers.stt?.info().provider ?? 'stt';
    throw new ProviderError(`${provider}: the hourly audio-seconds budget is spent`, { kind: 'rate_limited', provider, retryAfterMs: reservation.waitMs });
  }
}
