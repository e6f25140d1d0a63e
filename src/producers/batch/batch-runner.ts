// Batch transcription of a folder tree, the producer's side: discover files, keep the audio
// ones (ffprobe), key each by content + options, skip what MongoDB already records, prepare the
// rest (decode, VAD, chunks at silences) and queue each distinct file on the `stt` queue at
// PRIORITY_BATCH (one chunk job, or a BullMQ flow: a merge job over its chunk jobs), then write every file's
// transcripts as its flow completes. Interrupted and run again, it does only what is left: done
// files are in MongoDB, queued flows keep their ids, failed ones are started over.
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FlowProducer, Queue, QueueEvents, type FlowJob } from 'bullmq';
import { prepareAudio } from '../../shared/audio/prepare-audio.js';
import { probeAudioFile } from '../../shared/audio/probe-file.js';
import { SileroVad } from '../../shared/audio/silero-vad.js';
import {
  BATCH_CHUNK_JOB_NAME,
  BATCH_MERGE_JOB_NAME,
  batchChunkAudioId,
  batchChunkJobId,
  batchFileJobId,
  type BatchChunkJobData,
  type BatchMergeJobData,
  type BatchRecord,
} from '../../shared/contracts/batch.js';
import { PRIORITY_BATCH } from '../../shared/contracts/jobs.js';
import { VoxqError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AudioStore } from '../../shared/ports/audio-store.js';
import type { BatchRecordStore } from '../../shared/ports/batch-record-store.js';
import { STAGE_BACKOFF_TYPE } from '../../shared/queues.js';
import { createRedis, closeRedis } from '../../shared/redis.js';
import { batchKey, sha256File } from './content-key.js';
import { discover, type FoundFile, type SkippedFile } from './discover.js';
import { outputPath, removeStaleTemps, writeWhole } from './output-paths.js';
import { render, type TranscriptFormat } from './transcript-formats.js';

export const FAILURES_FILE = 'voxq-failures.tsv';
/** Kept a while for Bull Board; MongoDB is the durable record. */
const JOB_RETENTION = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 7 * 24 * 3600 } };

export interface BatchRunnerDeps {
  redisUrl: string;
  prefix: string;
  records: BatchRecordStore;
  audio: AudioStore;
  /** Attempts per chunk for retryable provider errors (VOXQ_STAGE_ATTEMPTS). */
  attempts: number;
  log: Logger;
}

export interface TranscribeFolderOptions {
  input: string;
  out: string;
  formats: readonly TranscriptFormat[];
  language: string;
  /** The STT model: part of the key (another model is another transcript). */
  model: string;
  /** Longest chunk sent to the provider (default 600 000 ms). */
  maxChunkMs?: number;
  /** Largest chunk file (default 25 MB). */
  maxChunkBytes?: number;
  /** Files prepared at once, each with its own VAD (default 2). */
  prepareConcurrency?: number;
  /** Aborting stops adding work and waiting; what is queued stays queued. */
  signal?: AbortSignal;
}

export interface BatchProgress {
  filesTotal: number;
  filesDone: number;
  filesFailed: number;
  audioTotalMs: number;
  audioDoneMs: number;
  elapsedMs: number;
}

export type FileStatus = 'transcribed' | 'already_done' | 'silent' | 'failed';

export interface FileOutcome {
  relPath: string;
  status: FileStatus;
  key?: string;
  reason?: string;
  outputs?: string[];
}

export interface BatchSummary {
  files: FileOutcome[];
  skipped: SkippedFile[];
  failures: { relPath: string; reason: string }[];
  progress: BatchProgress;
  interrupted: boolean;
  /** Written when something failed (tab-separated path and reason), else removed. */
  failuresFile: string;
}

interface Group {
  key: string;
  contentSha256: string;
  files: { file: FoundFile; durationMs: number }[];
  chunkCount?: number;
}

export interface BatchRunnerEvents {
  discovered: [{ files: number; skipped: SkippedFile[] }];
  file: [FileOutcome];
  progress: [BatchProgress];
}

export class BatchRunner extends EventEmitter<BatchRunnerEvents> {
  constructor(private readonly deps: BatchRunnerDeps) {
    super();
  }

  async run(options: TranscribeFolderOptions): Promise<BatchSummary> {
    const startedAt = Date.now();
    const { log } = this.deps;
    const progress: BatchProgress = { filesTotal: 0, filesDone: 0, filesFailed: 0, audioTotalMs: 0, audioDoneMs: 0, elapsedMs: 0 };
    const outcomes: FileOutcome[] = [];
    const emitProgress = () => {
      progress.elapsedMs = Date.now() - startedAt;
      this.emit('progress', { ...progress });
    };
    const settleFile = (outcome: FileOutcome, durationMs: number) => {
      outcomes.push(outcome);
      if (outcome.status === 'failed') progress.filesFailed += 1;
      else {
        progress.filesDone += 1;
        progress.audioDoneMs += durationMs;
      }
      this.emit('file', outcome);
      emitProgress();
    };

    const staleTemps = await removeStaleTemps(options.out);
    if (staleTemps > 0) log.info({ files: staleTemps }, 'removed temp files left by an interrupted run');
    const discovery = await discover(options.input);
    const skipped = [...discovery.skipped];
    progress.filesTotal = discovery.files.length;
    this.emit('discovered', { files: discovery.files.length, skipped });

    // Which candidates are audio, and their keys.
    const groups = new Map<string, Group>();
    await eachLimit(discovery.files, 4, async (file) => {
      try {
        const probed = await probeAudioFile(file.path);
        const contentSha256 = await sha256File(file.path);
        const key = batchKey(contentSha256, { language: options.language, model: options.model });
        const group = groups.get(key) ?? { key, contentSha256, files: [] };
        group.files.push({ file, durationMs: probed.durationMs });
        groups.set(key, group);
        progress.audioTotalMs += probed.durationMs;
      } catch (error) {
        if (error instanceof VoxqError && error.code === 'audio_not_audio') {
          skipped.push({ relPath: file.relPath, reason: error.message });
          progress.filesTotal -= 1;
        } else {
          settleFile({ relPath: file.relPath, status: 'failed', reason: reasonOf(error) }, 0);
        }
      }
      emitProgress();
    });

    const finish = async (group: Group, record: BatchRecord, status: FileStatus): Promise<void> => {
      for (const { file, durationMs } of group.files) {
        try {
          const outputs: string[] = [];
          for (const format of options.formats) {
            const path = outputPath(options.out, file.relPath, format);
            await writeWhole(path, render(format, record, file.relPath));
            outputs.push(path);
          }
          settleFile({ relPath: file.relPath, status, key: group.key, outputs }, durationMs);
        } catch (error) {
          settleFile({ relPath: file.relPath, status: 'failed', key: group.key, reason: reasonOf(error) }, 0);
        }
      }
    };
    const failGroup = (group: Group, reason: string) => {
      for (const { file } of group.files) settleFile({ relPath: file.relPath, status: 'failed', key: group.key, reason }, 0);
    };

    // Done before (this run's files, any earlier run, or another folder with the same audio).
    const known = await this.deps.records.getMany([...groups.keys()]);
    for (const record of known) {
      const group = groups.get(record.key);
      if (!group) continue;
      groups.delete(record.key);
      await finish(group, record, 'already_done');
    }

    const interrupted = groups.size > 0 ? await this.transcribe(groups, options, { finish, failGroup }) : false;
    progress.elapsedMs = Date.now() - startedAt;
    const failures = outcomes.filter((o) => o.status === 'failed').map((o) => ({ relPath: o.relPath, reason: o.reason ?? 'unknown' }));
    const failuresFile = join(options.out, FAILURES_FILE);
    if (failures.length > 0) {
      await writeWhole(failuresFile, `path\treason\n${failures.map((f) => `${f.relPath}\t${f.reason.replace(/\s+/g, ' ')}`).join('\n')}\n`);
    } else {
      await rm(failuresFile, { force: true });
    }
    log.info({ files: outcomes.length, failed: failures.length, skipped: skipped.length, interrupted }, 'batch finished');
    return { files: outcomes, skipped, failures, progress: { ...progress }, interrupted, failuresFile };
  }

  /** Prepares and queues what is left, and waits for it. True when interrupted. */
  private async transcribe(
    groups: Map<string, Group>,
    options: TranscribeFolderOptions,
    on: { finish(group: Group, record: BatchRecord, status: FileStatus): Promise<void>; failGroup(group: Group, reason: string): void },
  ): Promise<boolean> {
    const { deps } = this;
    const producer = createRedis(deps.redisUrl, 'producer', 'voxq-batch');
    const blocking = createRedis(deps.redisUrl, 'worker', 'voxq-batch-events');
    const flows = new FlowProducer({ connection: producer, prefix: deps.prefix });
    const sttQueue = new Queue('stt', { connection: producer, prefix: deps.prefix });
    const events = new QueueEvents('stt', { connection: blocking, prefix: deps.prefix });
    const pending = new Map<string, Group>();
    const byJobId = (jobId: string) => (/^batch\.[0-9a-f]{40}$/.test(jobId) ? pending.get(jobId.slice('batch.'.length)) : undefined);
    let wake: (() => void) | undefined;
    // A group leaves `pending` only once its outputs are written, so the run cannot end while
    // the last file is still being settled; `settling` keeps a group from being settled twice.
    const settling = new Set<string>();
    const settle = async (group: Group, work: () => Promise<void>) => {
      if (!pending.has(group.key) || settling.has(group.key)) return;
      settling.add(group.key);
      await work().catch((error: unknown) => on.failGroup(group, reasonOf(error)));
      pending.delete(group.key);
      settling.delete(group.key);
      wake?.();
    };
    const completed = (group: Group) =>
      settle(group, async () => {
        const record = await deps.records.get(group.key);
        if (record) await on.finish(group, record, 'transcribed');
        else on.failGroup(group, 'the transcription finished but no record was written');
      });
    const failed = (group: Group, parentReason: string) =>
      settle(group, async () => on.failGroup(group, await this.chunkFailure(sttQueue, group, parentReason)));
    events.on('completed', ({ jobId }) => {
      const group = byJobId(jobId);
      if (group) void completed(group);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const group = byJobId(jobId);
      if (group) void failed(group, failedReason);
    });

    const vads: SileroVad[] = [];
    try {
      await events.waitUntilReady();
      const signal = options.signal;
      await eachLimit([...groups.values()], options.prepareConcurrency ?? 2, async (group) => {
        if (signal?.aborted) return;
        pending.set(group.key, group);
        try {
          const jobId = batchFileJobId(group.key);
          const existing = await sttQueue.getJob(jobId);
          if (existing) {
            const state = await existing.getState();
            if (state === 'completed') {
              await completed(group);
              return;
            }
            if (state !== 'failed') {
              const queued = existing.data as Partial<BatchMergeJobData> & { file?: BatchMergeJobData };
              group.chunkCount = queued.chunkCount ?? queued.file?.chunkCount;
              return; // queued or running (an earlier run): wait for it
            }
            await existing.remove({ removeChildren: true });
          }
          const vad = vads.pop() ?? (await SileroVad.load());
          let prepared;
          try {
            prepared = await prepareAudio(group.files[0]?.file.path ?? '', {
              vad,
              expectedDurationMs: group.files[0]?.durationMs ?? 0,
              ...(options.maxChunkMs !== undefined ? { maxChunkMs: options.maxChunkMs } : {}),
              ...(options.maxChunkBytes !== undefined ? { maxChunkBytes: options.maxChunkBytes } : {}),
            });
          } finally {
            vads.push(vad);
          }
          if (prepared.chunks.length === 0) {
            // Silence: an empty transcript, recorded without calling the provider.
            const record = await deps.records.save({
              key: group.key,
              contentSha256: group.contentSha256,
              language: options.language,
              durationMs: prepared.durationMs,
              speechMs: 0,
              chunkCount: 0,
              text: '',
              segments: [],
              provider: 'none',
              model: options.model,
              createdAt: new Date(),
            });
            await settle(group, () => on.finish(group, record, 'silent'));
            return;
          }
          group.chunkCount = prepared.chunks.length;
          const children: FlowJob[] = [];
          for (const chunk of prepared.chunks) {
            const audioId = batchChunkAudioId(group.key, chunk.index);
            await deps.audio.put(chunk.wav, { mimeType: 'audio/wav', audioId });
            const data: BatchChunkJobData = {
              key: group.key,
              index: chunk.index,
              audioId,
              offsetMs: chunk.startMs,
              durationMs: chunk.endMs - chunk.startMs,
              language: options.language,
            };
            children.push({
              name: BATCH_CHUNK_JOB_NAME,
              queueName: 'stt',
              data,
              opts: {
                jobId: batchChunkJobId(group.key, chunk.index),
                priority: PRIORITY_BATCH,
                attempts: deps.attempts,
                backoff: { type: STAGE_BACKOFF_TYPE },
                failParentOnFailure: true,
                ...JOB_RETENTION,
              },
            });
          }
          const file: BatchMergeJobData = {
            key: group.key,
            contentSha256: group.contentSha256,
            language: options.language,
            durationMs: prepared.durationMs,
            speechMs: prepared.speechMs,
            chunkCount: prepared.chunks.length,
          };
          const [only] = children;
          if (children.length === 1 && only) {
            // One chunk: that job records the file itself.
            await sttQueue.add(BATCH_CHUNK_JOB_NAME, { ...(only.data as BatchChunkJobData), file }, { ...only.opts, jobId });
          } else {
            await flows.add({
              name: BATCH_MERGE_JOB_NAME,
              queueName: 'stt',
              data: file,
              opts: { ...JOB_RETENTION, jobId, priority: PRIORITY_BATCH, attempts: deps.attempts, backoff: { type: STAGE_BACKOFF_TYPE } },
              children,
            });
          }
          deps.log.debug({ key: group.key, chunks: children.length }, 'batch file queued');
        } catch (error) {
          await settle(group, () => Promise.resolve(on.failGroup(group, reasonOf(error))));
        }
      });
      // Anything that finished between its add and the events connection catching up.
      for (const group of [...pending.values()]) {
        const state = await (await sttQueue.getJob(batchFileJobId(group.key)))?.getState();
        if (state === 'completed') await completed(group);
      }
      while (pending.size > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal?.addEventListener('abort', () => resolve(), { once: true });
        });
      }
      return signal?.aborted === true && pending.size > 0;
    } finally {
      await Promise.all(vads.map((v) => v.close()));
      await events.close();
      await Promise.all([flows.close(), sttQueue.close()]);
      await Promise.all([closeRedis(producer), closeRedis(blocking)]);
    }
  }

  /** The reason a failed flow failed: its first failed chunk's, else the parent's. */
  private async chunkFailure(sttQueue: Queue, group: Group, parentReason: string): Promise<string> {
    for (let i = 0; i < (group.chunkCount ?? 0); i += 1) {
      const job = await sttQueue.getJob(batchChunkJobId(group.key, i));
      if (job?.failedReason) return job.failedReason;
    }
    return parentReason;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof VoxqError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

async function eachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(runners);
}

