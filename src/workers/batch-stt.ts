// Batch transcription on the STT workers. A file's chunks are `batch-chunk` jobs on the `stt`
// queue (at PRIORITY_BATCH, so live turns go first); a file of one chunk is recorded by that job,
// a longer one by the `batch-merge` job whose children they are (a BullMQ flow), once, at the
// chunks' offsets. Each chunk first takes a batch slot of the shared request window (at most the
// limit minus the live reserve) and reserves its audio seconds in the batch share of the hourly
// budget; when either says wait, or the provider answers 429, only that job goes back to the
// queue for the wait (moveToDelayed, no attempt spent). A 429 also holds all batch work off the
// provider until its retry-after (a backoff in Redis that live turns ignore). Merge jobs make no
// provider call and take no slot.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  batchChunkAudioId,
  batchChunkJobSchema,
  batchChunkResultSchema,
  batchMergeJobSchema,
  BATCH_CHUNK_JOB_NAME,
  BATCH_MERGE_JOB_NAME,
  type BatchChunkResult,
  type BatchMergeJobData,
  type BatchRecord,
} from '../shared/contracts/batch.js';
import type { Logger } from '../shared/logger.js';
import type { AudioStore } from '../shared/ports/audio-store.js';
import type { BatchRecordStore } from '../shared/ports/batch-record-store.js';
import type { Metrics } from '../shared/ports/metrics.js';
import type { SttProvider } from '../shared/ports/stt-provider.js';
import { isProviderError } from '../shared/providers/provider-error.js';
import type { AudioBudget } from '../shared/rate-limit/audio-budget.js';
import type { RequestWindow } from '../shared/rate-limit/request-window.js';
import { currentTraceContext, withSpan } from '../shared/telemetry/span-helpers.js';

/** When a 429 carries no retry-after. */
const DEFAULT_RATE_LIMIT_BACKOFF_MS = 10_000;

export interface BatchWorkerDeps {
  records: BatchRecordStore | undefined;
  audio: AudioStore;
  stt: () => SttProvider;
  /** Unset: no audio-seconds limit. */
  budget: AudioBudget | undefined;
  /** The provider's shared request window (and the batch 429 backoff). Unset: no limits (the fake). */
  requests: RequestWindow | undefined;
  log: Logger;
  metrics: Metrics;
  stageTimeoutMs: number;
}

function recordsOf(deps: BatchWorkerDeps): BatchRecordStore {
  if (!deps.records) throw new UnrecoverableError('this worker has no batch record store: open its stores with openMongoStores');
  return deps.records;
}

/** Back to the queue until `waitMs` from now, this job only; BullMQ spends no attempt on a DelayedError. */
async function waitInQueue(job: Job<unknown, unknown>, waitMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + waitMs, job.token);
  throw new DelayedError();
}

export function isBatchJob(name: string): boolean {
  return name === BATCH_CHUNK_JOB_NAME || name === BATCH_MERGE_JOB_NAME;
}

/** Runs batch jobs of the `stt` queue. */
export function createBatchProcessor(deps: BatchWorkerDeps): (job: Job<unknown, unknown>) => Promise<unknown> {
  const chunk = createBatchChunkProcessor(deps);
  const merge = createBatchMergeProcessor(deps);
  return (job) => (job.name === BATCH_MERGE_JOB_NAME ? merge(job) : chunk(job));
}

/** Transcribes one chunk (and records the file when it is its only chunk). */
function createBatchChunkProcessor(deps: BatchWorkerDeps): (job: Job<unknown, unknown>) => Promise<BatchChunkResult> {
  return async (job) => {
    const traceContext = currentTraceContext(); // the job's span, active until the first await
    const parsed = batchChunkJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid batch chunk job data: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const data = parsed.data;
    const done = await recordsOf(deps).get(data.key);
    if (done) {
      return { index: data.index, offsetMs: data.offsetMs, durationMs: data.durationMs, text: '', segments: [], provider: done.provider, model: done.model };
    }
    const { bytes } = await deps.audio.get(data.audioId);
    const callId = job.id ?? data.audioId;
    const slot = await deps.requests?.acquire('batch', callId);
    if (slot && slot.waitMs > 0) {
      deps.log.debug({ jobId: job.id, waitMs: slot.waitMs }, 'batch share of the request window taken: the chunk waits');
      deps.metrics.increment('voxq.batch.rate_limited', 1, { limit: 'requests' });
      await waitInQueue(job, slot.waitMs);
    }
    const reservation = await deps.budget?.reserve(callId, data.durationMs, 'batch');
    if (reservation && reservation.waitMs > 0) {
      await slot?.release();
      deps.log.info({ jobId: job.id, waitMs: reservation.waitMs }, 'batch share of the audio-seconds budget spent: the chunk waits');
      deps.metrics.increment('voxq.batch.rate_limited', 1, { limit: 'audio_seconds' });
      await waitInQueue(job, reservation.waitMs);
    }
    const stt = deps.stt();
    const info = stt.info();
    try {
      const transcription = await withSpan(
        traceContext,
        'stt.transcribe',
        { 'gen_ai.operation.name': 'transcription', 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.audio.size_bytes': bytes.byteLength },
        () => stt.transcribe({ bytes, mimeType: 'audio/wav', fileName: 'chunk.wav' }, { language: data.language, signal: AbortSignal.timeout(deps.stageTimeoutMs) }),
      );
      deps.metrics.increment('voxq.batch.chunks', 1, { outcome: 'transcribed' });
      const result: BatchChunkResult = {
        index: data.index,
        offsetMs: data.offsetMs,
        durationMs: data.durationMs,
        text: transcription.text.trim(),
        segments: transcription.segments.map((s) => ({
          startMs: data.offsetMs + s.startMs,
          endMs: data.offsetMs + Math.min(s.endMs, data.durationMs),
          text: s.text,
          ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
        })),
        provider: info.provider,
        model: info.model,
      };
      if (data.file) await recordFile(deps, data.file, [result]);
      return result;
    } catch (error) {
      // The provider never counted a call that failed before it answered: give the seconds back,
      // and the request slot when the call never reached it.
      await reservation?.release();
      if (isProviderError(error) && error.kind === 'connection') await slot?.release();
      if (isProviderError(error) && error.kind === 'rate_limited') {
        const waitMs = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_BACKOFF_MS;
        deps.log.warn({ jobId: job.id, waitMs }, 'provider answered 429: batch work backs off');
        deps.metrics.increment('voxq.batch.rate_limited', 1, { limit: 'provider_429' });
        await deps.requests?.backOffBatch(waitMs);
        await waitInQueue(job, waitMs);
      }
      if (isProviderError(error) && !error.retryable) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
}

/** Merges a file's chunk results (its flow children) in order and records the transcript once. */
function createBatchMergeProcessor(deps: BatchWorkerDeps): (job: Job<unknown, unknown>) => Promise<{ key: string; recorded: boolean }> {
  return async (job) => {
    const parsed = batchMergeJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid batch merge job data: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const data = parsed.data;
    if (await recordsOf(deps).get(data.key)) {
      await deleteChunkAudio(deps, data);
      return { key: data.key, recorded: false };
    }
    const values = Object.values(await job.getChildrenValues());
    const chunks = values.map((v) => batchChunkResultSchema.parse(v));
    if (chunks.length !== data.chunkCount) throw new Error(`batch ${data.key}: ${chunks.length} of ${data.chunkCount} chunk results`);
    return { key: data.key, recorded: await recordFile(deps, data, chunks) };
  };
}

/** Records a file from its chunk results (in order, first write wins) and drops its chunk audio. */
async function recordFile(deps: BatchWorkerDeps, data: BatchMergeJobData, results: readonly BatchChunkResult[]): Promise<boolean> {
  const chunks = [...results].sort((a, b) => a.index - b.index);
  const record: BatchRecord = {
    key: data.key,
    contentSha256: data.contentSha256,
    language: data.language,
    durationMs: data.durationMs,
    speechMs: data.speechMs,
    chunkCount: data.chunkCount,
    text: chunks.map((c) => c.text).filter((t) => t !== '').join(' '),
    segments: chunks.flatMap((c) => c.segments),
    provider: chunks[0]?.provider ?? 'unknown',
    model: chunks[0]?.model ?? 'unknown',
    createdAt: new Date(),
  };
  const saved = await recordsOf(deps).save(record);
  deps.metrics.increment('voxq.batch.files', 1, { outcome: 'transcribed' });
  await deleteChunkAudio(deps, data);
  return saved.createdAt.getTime() === record.createdAt.getTime();
}

async function deleteChunkAudio(deps: BatchWorkerDeps, data: BatchMergeJobData): Promise<void> {
  for (let i = 0; i < data.chunkCount; i += 1) {
    await deps.audio.delete(batchChunkAudioId(data.key, i)).catch(() => undefined);
  }
}
