// Batch transcription end to end in one process: a generated tree of pt-BR recordings, the real
// Groq provider against the stand-in, real Redis and the test database. Every transcript is
// checked word for word, the long file's chunk offsets against the original, and re-runs (also
// after Redis lost everything) make no provider call.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_CHUNK_JOB_NAME, BATCH_MERGE_JOB_NAME, batchChunkJobId, batchFileJobId } from '../../src/shared/contracts/batch.js';
import { PRIORITY_BATCH } from '../../src/shared/contracts/jobs.js';
import type { BatchRunner} from '../../src/producers/batch/batch-runner.js';
import { type BatchSummary, type TranscribeFolderOptions } from '../../src/producers/batch/batch-runner.js';
import { Queue } from 'bullmq';
import { connect } from '../../src/producers/sdk/connect.js';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { STANDIN_API_KEY } from '../support/groq-standin.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { testConfig } from '../support/pipeline.js';
import { buildSpeechTree, PHRASES, type SpeechTree } from './support/speech-tree.js';
import { decodedIslands, deletePrefix, expectedText, readOut, startBatchRig, transcriptionCalls, type BatchRig } from './support/batch-harness.js';

let tree: SpeechTree;
let rig: BatchRig;
let out: string;
const prefix = `vb${randomBytes(5).toString('hex')}`;
const dbName = uniqueDbName('batch');

const runner = (): BatchRunner => rig.runner();

function options(): TranscribeFolderOptions {
  return { input: tree.root, out, formats: ['srt', 'vtt', 'json', 'txt'], language: 'pt-BR', model: 'whisper-large-v3-turbo', maxChunkMs: 8000 };
}

beforeAll(async () => {
  tree = await buildSpeechTree();
  out = await mkdtemp(join(tmpdir(), 'voxq-batch-out-'));
  rig = await startBatchRig(prefix, dbName, 3);
}, 120_000);

afterAll(async () => {
  await rig?.close();
  await tree?.cleanup();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('voxq batch transcription', () => {
  let first: BatchSummary;

  it('transcribes every audio file of the tree right, skips what is not audio, fails the corrupt file alone', async () => {
    const run = runner();
    const progress: number[] = [];
    run.on('progress', (p) => progress.push(p.filesDone + p.filesFailed));
    first = await run.run(options());

    expect(first.interrupted).toBe(false);
    expect(first.skipped.map((s) => s.relPath).sort()).toEqual([...tree.skipped].sort());
    expect(first.skipped.find((s) => s.relPath === 'link para fora.wav')?.reason).toMatch(/outside the folder/);
    expect(first.failures.map((f) => f.relPath)).toEqual(tree.failed);
    expect(first.failures[0]?.reason).toMatch(/^corrupt audio \(/);
    expect(await readFile(first.failuresFile ?? '', 'utf8')).toContain('quebrado.wav\tcorrupt audio (');
    expect(progress.at(-1)).toBe(tree.audio.length);

    for (const file of tree.audio) {
      const outcome = first.files.find((f) => f.relPath === file.relPath);
      expect(outcome?.status, file.relPath).toBe(file.phrases.length === 0 ? 'silent' : 'transcribed');
      const txt = await readOut(out, file.relPath, 'txt');
      expect(txt.trim(), file.relPath).toBe(expectedText(file));
      const json = JSON.parse(await readOut(out, file.relPath, 'json')) as { segments: { start: number; end: number; text: string }[]; text: string };
      expect(json.segments.map((s) => s.text), file.relPath).toEqual(file.phrases.map((p) => PHRASES[p]));
      const srt = await readOut(out, file.relPath, 'srt');
      const vtt = await readOut(out, file.relPath, 'vtt');
      expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
      expect(srt.match(/^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$/gm)?.length ?? 0, file.relPath).toBe(file.phrases.length);
      expect(vtt.match(/^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$/gm)?.length ?? 0, file.relPath).toBe(file.phrases.length);
    }
  });

  it('cuts the long file at silences into chunks and merges them at exact offsets', async () => {
    const outcome = first.files.find((f) => f.relPath === tree.long.relPath);
    const record = await rig.stores.batches?.get(outcome?.key ?? '');
    expect(record?.chunkCount).toBeGreaterThanOrEqual(3);
    // The phrases where the original file has them: chunk-relative times plus the chunk's offset.
    const truth = await decodedIslands(join(tree.root, tree.long.relPath));
    expect(truth).toHaveLength(tree.long.phrases.length);
    expect(record?.segments).toHaveLength(truth.length);
    record?.segments.forEach((segment, i) => {
      expect(Math.abs(segment.startMs - (truth[i]?.startMs ?? 0)), `segment ${i} start`).toBeLessThanOrEqual(40);
      expect(Math.abs(segment.endMs - (truth[i]?.endMs ?? 0)), `segment ${i} end`).toBeLessThanOrEqual(40);
    });
    const srt = await readOut(out, tree.long.relPath, 'srt');
    const firstCue = srt.split('\n')[1] ?? '';
    const startS = (truth[0]?.startMs ?? 0) / 1000;
    expect(firstCue.startsWith(`00:00:0${Math.floor(startS)},`)).toBe(true);
  });

  it('transcribes identical files once, silence without a provider call, chunks at batch priority', async () => {
    const dup = first.files.find((f) => f.relPath === 'copia/dup.wav');
    const original = first.files.find((f) => f.relPath === 'reunião de segunda/bom dia.wav');
    expect(dup?.key).toBe(original?.key);
    const keys = [...new Set(first.files.filter((f) => f.key && f.status !== 'failed').map((f) => f.key as string))];
    const records = (await rig.stores.batches?.getMany(keys)) ?? [];
    expect(records).toHaveLength(keys.length);
    const chunks = records.reduce((n, r) => n + r.chunkCount, 0);
    expect(transcriptionCalls(rig.standin)).toBe(chunks);
    expect(records.find((r) => r.text === '')?.chunkCount).toBe(0);
    expect(await rig.stores.batches?.count()).toBe(keys.length);

    const redis = createRedis(testConfig(prefix, undefined).REDIS_URL, 'producer');
    const stt = new Queue('stt', { connection: redis, prefix });
    // A one-chunk file is one job; the long file a flow on the same queue, all at batch priority.
    const single = records.find((r) => r.chunkCount === 1);
    const long = records.find((r) => r.chunkCount >= 3);
    const only = await stt.getJob(batchFileJobId(single?.key ?? ''));
    expect(only?.name).toBe(BATCH_CHUNK_JOB_NAME);
    expect(only?.opts.priority).toBe(PRIORITY_BATCH);
    const merge = await stt.getJob(batchFileJobId(long?.key ?? ''));
    expect(merge?.name).toBe(BATCH_MERGE_JOB_NAME);
    const child = await stt.getJob(batchChunkJobId(long?.key ?? '', 1));
    expect(child?.opts.priority).toBe(PRIORITY_BATCH);
    expect(child?.parentKey).toContain(batchFileJobId(long?.key ?? ''));
    await stt.close();
    await closeRedis(redis);
  });

  it('re-runs without a provider call, also after Redis lost everything', async () => {
    const calls = transcriptionCalls(rig.standin);
    const again = await runner().run(options());
    expect(transcriptionCalls(rig.standin)).toBe(calls);
    expect(again.files.filter((f) => f.status !== 'failed').every((f) => f.status === 'already_done')).toBe(true);
    expect(again.files.filter((f) => f.status === 'already_done')).toHaveLength(tree.audio.length);

    await deletePrefix(prefix);
    await rm(out, { recursive: true, force: true });
    const afterLoss = await runner().run(options());
    expect(transcriptionCalls(rig.standin)).toBe(calls);
    expect(afterLoss.files.filter((f) => f.status === 'already_done')).toHaveLength(tree.audio.length);
    expect((await readOut(out, tree.long.relPath, 'txt')).trim()).toBe(expectedText(tree.long));
  });

  it('is the same from the SDK: transcribeFolder emits file and progress events and resolves the summary', async () => {
    const client = await connect({ config: testConfig(prefix, testMongoUrl(), { VOXQ_MONGO_DB: dbName, VOXQ_STT: 'groq', GROQ_API_KEY: STANDIN_API_KEY }) });
    const sdkOut = await mkdtemp(join(tmpdir(), 'voxq-batch-sdk-'));
    try {
      const run = client.transcribeFolder({ input: join(tree.root, 'c'), out: sdkOut, formats: ['txt'] });
      const files: string[] = [];
      const progress: number[] = [];
      run.on('file', (f) => files.push(`${f.relPath}:${f.status}`));
      run.on('progress', (p) => progress.push(p.filesDone));
      const summary = await run.done;
      expect(files.sort()).toEqual(['arquivo ogg.ogg:already_done', 'deep/nested/x.flac:already_done']);
      expect(progress.at(-1)).toBe(2);
      expect(summary.failures).toEqual([]);
      expect((await readFile(join(sdkOut, 'arquivo ogg.ogg.txt'), 'utf8')).trim()).toBe(expectedText({ relPath: '', phrases: [0, 1] }));
    } finally {
      await client.close();
      await rm(sdkOut, { recursive: true, force: true });
    }
  });

  it('a 429 with retry-after backs batch work off and the file still completes, no attempt spent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxq-batch-429-'));
    try {
      const { writeFile, copyFile } = await import('node:fs/promises');
      await copyFile(join(tree.root, 'c/deep/nested/x.flac'), join(dir, 'novo.flac'));
      // Different content, same speech: a new key.
      await writeFile(join(dir, 'novo.flac'), Buffer.concat([await readFile(join(dir, 'novo.flac'))]));
      const calls = transcriptionCalls(rig.standin);
      rig.standin.failNext({ status: 429, retryAfterS: 1, endpoint: 'transcriptions' });
      const summary = await runner().run({ ...options(), input: dir, language: 'pt' });
      expect(summary.failures).toEqual([]);
      expect(summary.files[0]?.status).toBe('transcribed');
      expect(transcriptionCalls(rig.standin)).toBe(calls + 2);
      const statuses = rig.standin.requests.slice(-2).map((r) => r.status);
      expect(statuses).toEqual([429, 200]);
      expect((await readOut(out, 'novo.flac', 'txt')).trim()).toBe(PHRASES[3]);
      const redis = createRedis(testConfig(prefix, undefined).REDIS_URL, 'producer');
      const stt = new Queue('stt', { connection: redis, prefix });
      const chunk = await stt.getJob(batchFileJobId(summary.files[0]?.key ?? ''));
      expect(chunk?.attemptsMade).toBeLessThanOrEqual(1); // the 429 was not a failed attempt
      expect(chunk?.stacktrace ?? []).toEqual([]);
      await stt.close();
      await closeRedis(redis);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
