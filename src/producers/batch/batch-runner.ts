// Batch transcription of a folder tree, the producer's side: check the folders, discover files,
// keep the audio ones (ffprobe), key each by content + options, skip what MongoDB already
// records, prepare the rest (decode, VAD, chunks at silences) and queue each distinct file on the
// `stt` queue at PRIORITY_BATCH (one chunk job, or a BullMQ flow: a merge job over its chunk
// jobs), then write every file's transcripts as its flow completes, never over a file voxq did
// not write (output-manifest.ts). Interrupted and run again, it does only what is left: done files
// are in MongoDB, queued flows keep their ids, failed ones are started over. Every file found ends
// in the summary exactly once: transcribed, already done, silent, failed, skipped or interrupted.
import { EventEmitter } from 'node:events';
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
import { createRedis, closeRedis, quietOnOutage, type RedisTarget } from '../../shared/redis.js';
import { resolveQueueShards } from '../../shared/shards/queue-shards.js';
import { checkFolders } from './check-folders.js';
import { batchKey, sha256File } from './content-key.js';
import { discover, type DiscoverFs, type FailedPath, type FoundFile, type SkippedFile } from './discover.js';
import { OutputManifest } from './output-manifest.js';
import { outputPath, removeStaleTemps } from './output-paths.js';
import { probeVerdict } from './probe-verdict.js';
import { render, type TranscriptFormat } from './transcript-formats.js';

export const FAILURES_FILE = 'voxq-failures.tsv';
export const NOT_STARTED = 'not started (interrupted)';
export const QUEUED_NOT_FINISHED = 'queued, not finished (interrupted)';
/** Kept a while for Bull Board; MongoDB is the durable record. */
const JOB_RETENTION = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 7 * 24 * 3600 } };

export interface BatchRunnerDeps {
  /** REDIS_URL, or a Redis Cluster's nodes (src/shared/redis.ts). */
  redisUrl: RedisTarget;
  prefix: string;
  /** VOXQ_QUEUE_SHARDS: each file's flow runs on the stt queue of its content key's shard. */
  queueShards?: number;
  records: BatchRecordStore;
  audio: AudioStore;
  /** Attempts per chunk for retryable provider errors (VOXQ_STAGE_ATTEMPTS). */
  attempts: number;
  log: Logger;
  /** Test seam: the filesystem calls of the walk (root reads everything, so tests inject EACCES). */
  discoverFs?: Partial<DiscoverFs>;
}

export interface TranscribeFolderOptions {
  input: string;
  /** May be the input folder or inside it: voxq's outputs are never read as input. */
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
  /** The audio files this run transcribes (or finds already done): what `discovered` announced. */
  filesTotal: number;
  filesDone: number;
  filesFailed: number;
  audioTotalMs: number;
  audioDoneMs: number;
  elapsedMs: number;
}

/** `interrupted`: the run stopped first (reason: not started, or queued and not finished). */
export type FileStatus = 'transcribed' | 'already_done' | 'silent' | 'failed' | 'interrupted';

export interface FileOutcome {
  relPath: string;
  status: FileStatus;
  key?: string;
  reason?: string;
  outputs?: string[];
}

export interface BatchSummary {
  /** Every file found and not skipped, once each (a folder that could not be read ends in '/'). */
  files: FileOutcome[];
  skipped: SkippedFile[];
  failures: { relPath: string; reason: string }[];
  progress: BatchProgress;
  /** The run was stopped (signal): files left are `interrupted`. */
  interrupted: boolean;
  /** Written when something failed (tab-separated path and reason), else removed if voxq wrote it. */
  failuresFile?: string;
}

interface Group {
  key: string;
  contentSha256: string;
  files: { file: FoundFile; durationMs: number }[];
  chunkCount?: number;
}

export interface BatchRunnerEvents {
  /** The walk is done: every entry met (files to check, skipped, unreadable). */
  found: [{ files: number }];
  /** Probing is done: `files` audio files to transcribe (the progress total), the rest skipped or failed. */
  discovered: [{ files: number; skipped: SkippedFile[]; failed: FailedPath[] }];
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
    const { signal } = options;
    const folders = await checkFolders(options.input, options.out);
    const manifest = await OutputManifest.open(folders.out);
    const progress: BatchProgress = { filesTotal: 0, filesDone: 0, filesFailed: 0, audioTotalMs: 0, audioDoneMs: 0, elapsedMs: 0 };
    const outcomes: FileOutcome[] = [];
    const settled = new Set<string>();
    const emitProgress = () => {
      progress.elapsedMs = Date.now() - startedAt;
      this.emit('progress', { ...progress });
    };
    /** `counted`: the file is one of the progress total (audio), not one that failed before. */
    const settleFile = (outcome: FileOutcome, durationMs: number, counted = true) => {
      outcomes.push(outcome);
      settled.add(outcome.relPath);
      if (counted && outcome.status === 'failed') progress.filesFailed += 1;
      else if (counted && outcome.status !== 'interrupted') {
        progress.filesDone += 1;
        progress.audioDoneMs += durationMs;
      }
      this.emit('file', outcome);
      if (counted) emitProgress();
    };

    try {
      const staleTemps = await removeStaleTemps(folders.out);
      if (staleTemps > 0) log.info({ files: staleTemps }, 'removed temp files left by an interrupted run');
      const discovery = await discover(folders.input, {
        leaveOut: (path) => (folders.outInsideInput && path === folders.out) || manifest.isOwn(path),
        ...(signal ? { signal } : {}),
        ...(this.deps.discoverFs ? { fs: this.deps.discoverFs } : {}),
      });
      this.emit('found', { files: discovery.files.length + discovery.skipped.length + discovery.failed.length });
      const skipped = [...discovery.skipped];
      for (const failed of discovery.failed) settleFile({ relPath: failed.relPath, status: 'failed', reason: failed.reason }, 0, false);

      const { groups, keyOf } = await this.probe(discovery.files, options, {
        audio: (durationMs) => {
          progress.filesTotal += 1;
          progress.audioTotalMs += durationMs;
        },
        skip: (relPath, reason) => {
          skipped.push({ relPath, reason });
          settled.add(relPath);
        },
        fail: (relPath, reason) => settleFile({ relPath, status: 'failed', reason }, 0, false),
      });
      const failedEarly = outcomes.map((o) => ({ relPath: o.relPath, reason: o.reason ?? 'unknown' }));
      this.emit('discovered', { files: progress.filesTotal, skipped, failed: failedEarly });
      emitProgress();

      const finish = async (group: Group, record: BatchRecord, status: FileStatus): Promise<void> => {
        for (const { file, durationMs } of group.files) {
          try {
            const outputs = options.formats.map((format) => ({ path: outputPath(folders.out, file.relPath, format), content: render(format, record, file.relPath) }));
            await manifest.writeAll(outputs);
            settleFile({ relPath: file.relPath, status, key: group.key, outputs: outputs.map((o) => o.path) }, durationMs);
          } catch (error) {
            settleFile({ relPath: file.relPath, status: 'failed', key: group.key, reason: reasonOf(error) }, 0);
          }
        }
        await manifest.checkpoint().catch((error: unknown) => log.warn({ err: error }, 'could not save the list of written outputs'));
      };
      const failGroup = (group: Group, reason: string) => {
        for (const { file } of group.files) settleFile({ relPath: file.relPath, status: 'failed', key: group.key, reason }, 0);
      };

      // Done before (this run's files, any earlier run, or another folder with the same audio).
      if (!signal?.aborted && groups.size > 0) {
        for (const record of await this.deps.records.getMany([...groups.keys()])) {
          const group = groups.get(record.key);
          if (!group || signal?.aborted) continue;
          groups.delete(record.key);
          await finish(group, record, 'already_done');
        }
      }

      const queued = !signal?.aborted && groups.size > 0 ? await this.transcribe(groups, options, { finish, failGroup }) : new Set<string>();
      // What the run did not get to: interrupted (or, should it ever happen, failed: never lost).
      for (const file of discovery.files) {
        if (settled.has(file.relPath)) continue;
        const key = keyOf.get(file.relPath);
        if (signal?.aborted) {
          settleFile({ relPath: file.relPath, status: 'interrupted', ...(key ? { key } : {}), reason: key && queued.has(key) ? QUEUED_NOT_FINISHED : NOT_STARTED }, 0);
        } else {
          settleFile({ relPath: file.relPath, status: 'failed', ...(key ? { key } : {}), reason: 'the run ended before this file finished' }, 0, key !== undefined);
        }
      }

      progress.elapsedMs = Date.now() - startedAt;
      const interrupted = signal?.aborted === true;
      const byPath = (a: { relPath: string }, b: { relPath: string }) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0);
      skipped.sort(byPath);
      const failures = outcomes
        .filter((o) => o.status === 'failed')
        .map((o) => ({ relPath: o.relPath, reason: o.reason ?? 'unknown' }))
        .sort(byPath);
      const failuresPath = join(folders.out, FAILURES_FILE);
      let failuresFile: string | undefined;
      if (failures.length > 0) {
        try {
          await manifest.write(failuresPath, `path\treason\n${failures.map((f) => `${f.relPath}\t${f.reason.replace(/\s+/g, ' ')}`).join('\n')}\n`);
          failuresFile = failuresPath;
        } catch (error) {
          log.warn({ path: failuresPath, reason: reasonOf(error) }, 'failures list not written');
        }
      } else {
        await manifest.remove(failuresPath);
      }
      log.info({ files: outcomes.length, failed: failures.length, skipped: skipped.length, interrupted }, 'batch finished');
      return { files: outcomes, skipped, failures, progress: { ...progress }, interrupted, ...(failuresFile ? { failuresFile } : {}) };
    } finally {
      await manifest.save().catch((error: unknown) => log.warn({ err: error }, 'could not save the list of written outputs'));
    }
  }

  /**
   * Which candidates are audio (ffprobe), grouped by key. A probe cut short by Ctrl-C (which
   * reaches ffprobe too) says nothing about the file: it is left unsettled, for the re-run.
   */
  private async probe(
    files: readonly FoundFile[],
    options: TranscribeFolderOptions,
    on: { audio(durationMs: number): void; skip(relPath: string, reason: string): void; fail(relPath: string, reason: string): void },
  ): Promise<{ groups: Map<string, Group>; keyOf: Map<string, string> }> {
    const { signal } = options;
    const groups = new Map<string, Group>();
    const keyOf = new Map<string, string>();
    await eachLimit(files, 4, async (file) => {
      if (signal?.aborted) return;
      try {
        const probed = await probeAudioFile(file.path);
        const contentSha256 = await sha256File(file.path);
        const key = batchKey(contentSha256, { language: options.language, model: options.model });
        const group = groups.get(key) ?? { key, contentSha256, files: [] };
        group.files.push({ file, durationMs: probed.durationMs });
        groups.set(key, group);
        keyOf.set(file.relPath, key);
        on.audio(probed.durationMs);
      } catch (error) {
        if (signal?.aborted) return;
        const verdict = probeVerdict(file.relPath, error);
        if (verdict.skip) on.skip(file.relPath, verdict.reason);
        else on.fail(file.relPath, verdict.reason);
      }
    });
    return { groups, keyOf };
  }

  /** Prepares and queues what is left, and waits for it. Interrupted: the keys queued and not finished. */
  private async transcribe(
    groups: Map<string, Group>,
    options: TranscribeFolderOptions,
    on: { finish(group: Group, record: BatchRecord, status: FileStatus): Promise<void>; failGroup(group: Group, reason: string): void },
  ): Promise<Set<string>> {
    const { deps } = this;
    const signal = options.signal;
    const producer = createRedis(deps.redisUrl, 'producer', 'voxq-batch');
    const blocking = createRedis(deps.redisUrl, 'worker', 'voxq-batch-events');
    // A file's flow (its merge job and chunk jobs) runs on one shard's stt queue: the shard of its content key.
    const shards = await resolveQueueShards(producer, { prefix: deps.prefix, shards: deps.queueShards ?? 1 }).catch(async (error: unknown) => {
      await Promise.all([closeRedis(producer), closeRedis(blocking)]);
      throw error;
    });
    const onShard = shards.indexes().map((shard) => {
      const queuePrefix = shards.queuePrefix(shard);
      const name = shards.queueName('stt', shard);
      return {
        name,
        flows: quietOnOutage(new FlowProducer({ connection: producer, prefix: queuePrefix })),
        sttQueue: quietOnOutage(new Queue(name, { connection: producer, prefix: queuePrefix })),
        events: quietOnOutage(new QueueEvents(name, { connection: blocking, prefix: queuePrefix })),
      };
    });
    const shardOf = (group: Group) => {
      const found = onShard[shards.shardOf(group.key)];
      if (!found) throw new Error('no shard for the file');
      return found;
    };
    const pending = new Map<string, Group>();
    const byJobId = (jobId: string) => (/^batch\.[0-9a-f]{40}$/.test(jobId) ? pending.get(jobId.slice('batch.'.length)) : undefined);
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    // A group leaves `pending` only once its outputs are written, so the run cannot end while
    // the last file is still being settled; `settling` keeps a group from being settled twice.
    // Once the run stops waiting, no settle starts, and those under way are awaited: what is
    // still pending then is exactly what was queued and not finished.
    const settling = new Map<string, Promise<void>>();
    let stopped = false;
    const settle = async (group: Group, work: () => Promise<void>) => {
      if (stopped || !pending.has(group.key) || settling.has(group.key)) return;
      const done = work()
        .catch((error: unknown) => on.failGroup(group, reasonOf(error)))
        .finally(() => {
          pending.delete(group.key);
          settling.delete(group.key);
          wake?.();
        });
      settling.set(group.key, done);
      await done;
    };
    const completed = (group: Group) =>
      settle(group, async () => {
        const record = await deps.records.get(group.key);
        if (record) await on.finish(group, record, 'transcribed');
        else on.failGroup(group, 'the transcription finished but no record was written');
      });
    const failed = (group: Group, parentReason: string) =>
      settle(group, async () => on.failGroup(group, await this.chunkFailure(shardOf(group).sttQueue, group, parentReason)));
    for (const { events } of onShard) {
      events.on('completed', ({ jobId }) => {
        const group = byJobId(jobId);
        if (group) void completed(group);
      });
      events.on('failed', ({ jobId, failedReason }) => {
        const group = byJobId(jobId);
        if (group) void failed(group, failedReason);
      });
    }

    const vads: SileroVad[] = [];
    try {
      await Promise.all(onShard.map(({ events }) => events.waitUntilReady()));
      await eachLimit([...groups.values()], options.prepareConcurrency ?? 2, async (group) => {
        if (signal?.aborted) return;
        pending.set(group.key, group);
        const { sttQueue, flows, name: sttQueueName } = shardOf(group);
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
          if (signal?.aborted) {
            pending.delete(group.key); // prepared but not queued: not started
            return;
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
              queueName: sttQueueName,
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
              queueName: sttQueueName,
              data: file,
              opts: { ...JOB_RETENTION, jobId, priority: PRIORITY_BATCH, attempts: deps.attempts, backoff: { type: STAGE_BACKOFF_TYPE } },
              children,
            });
          }
          deps.log.debug({ key: group.key, chunks: children.length }, 'batch file queued');
        } catch (error) {
          // Ctrl-C reaches ffmpeg too: a preparation cut short is not started, not failed.
          if (signal?.aborted && !settling.has(group.key)) pending.delete(group.key);
          else await settle(group, () => Promise.resolve(on.failGroup(group, reasonOf(error))));
        }
      });
      // Anything that finished between its add and the events connection catching up.
      for (const group of [...pending.values()]) {
        const state = await (await shardOf(group).sttQueue.getJob(batchFileJobId(group.key)))?.getState();
        if (state === 'completed') await completed(group);
      }
      while (pending.size > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      stopped = true;
      await Promise.all(settling.values());
      return new Set(pending.keys());
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await Promise.all(vads.map((v) => v.close()));
      await Promise.all(onShard.map(({ events }) => events.close()));
      await Promise.all(onShard.flatMap(({ flows, sttQueue }) => [flows.close(), sttQueue.close()]));
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

/** Errors whose message already says it all, path included. */
const SELF_EXPLAINING = new Set(['output_not_ours', 'output_unwritable']);

function reasonOf(error: unknown): string {
  if (error instanceof VoxqError) return SELF_EXPLAINING.has(error.code) ? error.message : `${error.code}: ${error.message}`;
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

