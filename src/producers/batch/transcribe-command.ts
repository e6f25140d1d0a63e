// `voxq transcribe <folder> --out <folder>`: transcribes every audio file of a tree, with a live
// progress bar on stderr and a summary on stdout; exit 1 when a file failed, 130 when
// interrupted (Ctrl-C: what is queued stays queued, and a re-run does only what is left), 2 when
// the folders cannot be used (one line naming the path and the problem, checked before anything
// starts).
import { loadConfig, requireMongoUrl } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { redisTargetOf } from '../../shared/redis.js';
import { createSttProvider } from '../../shared/providers/create-providers.js';
import { openMongoStores } from '../../shared/store/mongo-stores.js';
import { openWorkerProcess, type WorkerProcess } from '../../workers/worker-process.js';
import type { BatchSummary } from './batch-runner.js';
import { checkFolders } from './check-folders.js';
import { OutputManifest } from './output-manifest.js';
import { formatDuration, ProgressBar } from './progress-bar.js';
import { startTranscribeFolder } from './transcribe-folder.js';
import { TRANSCRIPT_FORMATS, type TranscriptFormat } from './transcript-formats.js';

export interface TranscribeCommandOptions {
  out: string;
  format: string;
  language?: string;
  workers: number;
  maxChunkSeconds?: number;
  progress?: boolean;
}

export function parseFormats(value: string): TranscriptFormat[] {
  const formats = value.split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  const bad = formats.filter((f) => !(TRANSCRIPT_FORMATS as readonly string[]).includes(f));
  if (formats.length === 0 || bad.length > 0) {
    throw new InputError('invalid_formats', `unknown format(s) ${bad.join(', ') || '(none)'}: choose from ${TRANSCRIPT_FORMATS.join(', ')}`);
  }
  return [...new Set(formats)] as TranscriptFormat[];
}

export async function runTranscribeCommand(input: string, options: TranscribeCommandOptions): Promise<void> {
  const formats = parseFormats(options.format);
  await OutputManifest.open((await checkFolders(input, options.out)).out);
  const config = loadConfig();
  const log = createLogger('voxq-transcribe', config.VOXQ_LOG_LEVEL);
  const stores = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
  if (!stores.batches) throw new Error('no batch record store');
  let workers: WorkerProcess | undefined;
  if (options.workers > 0) {
    workers = await openWorkerProcess({
      config,
      stages: ['stt'],
      concurrency: options.workers,
      stores: { ...stores, close: () => Promise.resolve() },
      providers: { stt: createSttProvider(config) },
      log,
    });
  }
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nvoxq: interrupted: stopping (queued work stays queued; run again to finish). Press Ctrl-C again to force.\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const bar = options.progress === false ? undefined : new ProgressBar();
  let summary: BatchSummary;
  try {
    const run = startTranscribeFolder(
      { redisUrl: redisTargetOf(config), queueShards: config.VOXQ_QUEUE_SHARDS, prefix: config.VOXQ_PREFIX, records: stores.batches, audio: stores.audio, attempts: config.VOXQ_STAGE_ATTEMPTS, log },
      {
        input,
        out: options.out,
        formats,
        language: options.language ?? config.VOXQ_LANGUAGE,
        model: config.VOXQ_STT === 'fake' ? 'fake-stt' : config.VOXQ_STT_MODEL,
        maxChunkBytes: config.VOXQ_STT_MAX_FILE_BYTES,
        ...(options.maxChunkSeconds !== undefined ? { maxChunkMs: options.maxChunkSeconds * 1000 } : {}),
        signal: abort.signal,
      },
    );
    run.on('progress', (p) => bar?.update(p));
    run.on('found', ({ files }) => process.stderr.write(`voxq: ${files} files found; checking which are audio\n`));
    run.on('discovered', ({ files, skipped, failed }) =>
      process.stderr.write(`voxq: ${files} audio files to transcribe, ${skipped.length} skipped, ${failed.length} failed\n`),
    );
    summary = await run.done;
    bar?.done(summary.progress);
  } finally {
    await workers?.close();
    await stores.close();
  }
  process.stdout.write(summaryText(summary, options.out));
  process.exitCode = summary.interrupted ? 130 : summary.failures.length > 0 ? 1 : 0;
}

export function summaryText(summary: BatchSummary, out: string): string {
  const count = (status: string) => summary.files.filter((f) => f.status === status).length;
  const left = summary.files.filter((f) => f.status === 'interrupted');
  const lines = [
    `transcribed ${count('transcribed')}, already done ${count('already_done')}, silent ${count('silent')}, failed ${summary.failures.length}, skipped ${summary.skipped.length}` +
      `${summary.interrupted ? `, not finished ${left.length}` : ''}` +
      ` · ${(summary.progress.audioDoneMs / 3_600_000).toFixed(2)} h audio in ${formatDuration(summary.progress.elapsedMs)}${summary.interrupted ? ' · INTERRUPTED' : ''}`,
  ];
  if (summary.interrupted) {
    lines.push(`interrupted: ${left.length} files not finished; run the same command again to resume (queued work stays queued)`);
  }
  lines.push(`transcripts under ${out}`);
  for (const s of summary.skipped) lines.push(`skipped ${s.relPath}: ${s.reason}`);
  for (const f of summary.failures) lines.push(`FAILED ${f.relPath}: ${f.reason}`);
  for (const f of left) lines.push(`${f.reason ?? 'not finished (interrupted)'}: ${f.relPath}`);
  if (summary.failuresFile) lines.push(`failures listed in ${summary.failuresFile}`);
  return `${lines.join('\n')}\n`;
}
