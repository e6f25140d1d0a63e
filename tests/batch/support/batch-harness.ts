// Shared set-up for batch tests: the speech tree, the phrase recogniser behind the Groq stand-in,
// a unique Redis prefix and database, and the expected text of each file.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { decodeWithVad } from '../../../src/shared/audio/prepare-audio.js';
import { fixWavHeader } from '../../../src/shared/audio/wav.js';
import { speakPtBr } from '../../support/speech.js';
import { STANDIN_API_KEY, startGroqStandin, type GroqStandin } from '../../support/groq-standin.js';
import { BatchRunner, type BatchRunnerDeps } from '../../../src/producers/batch/batch-runner.js';
import { openMongoStores, type MongoStores } from '../../../src/shared/store/mongo-stores.js';
import { startWorkerProcess, type WorkerProcess } from '../../../src/workers/worker-process.js';
import { testMongoUrl } from '../../support/mongo.js';
import { quietLogger, testConfig } from '../../support/pipeline.js';
import { islandsOf, PhraseRecognizer, type Island } from './phrase-recognizer.js';
import { PHRASES, type TreeFile } from './speech-tree.js';

export async function decodedIslands(path: string): Promise<Island[]> {
  const { samples } = await decodeWithVad(path, undefined);
  return islandsOf(samples, 16_000);
}

/** Island length of each phrase, as the pipeline's decoding gives it. */
export async function phraseRecognizer(): Promise<PhraseRecognizer> {
  const dir = await mkdtemp(join(tmpdir(), 'voxq-phr-'));
  try {
    const lengths: number[] = [];
    for (const [i, phrase] of PHRASES.entries()) {
      const path = join(dir, `${i}.wav`);
      await writeFile(path, fixWavHeader(await speakPtBr(phrase)));
      const islands = await decodedIslands(path);
      if (islands.length !== 1) throw new Error(`phrase ${i} reads as ${islands.length} islands`);
      const [island] = islands;
      lengths.push((island?.endMs ?? 0) - (island?.startMs ?? 0));
    }
    return new PhraseRecognizer(PHRASES, lengths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function recognizingStandin(): Promise<GroqStandin> {
  const recognizer = await phraseRecognizer();
  return startGroqStandin({ segments: (audio) => recognizer.segments(audio) });
}

export function expectedText(file: TreeFile): string {
  return file.phrases.map((p) => PHRASES[p]).join(' ');
}

export function transcriptionCalls(standin: GroqStandin): number {
  return standin.requests.filter((r) => r.path.endsWith('/audio/transcriptions')).length;
}

/** An output as voxq names it: the input's whole relative path plus the format (`a/x.ogg` → `a/x.ogg.txt`). */
export async function readOut(out: string, relPath: string, ext: string): Promise<string> {
  return readFile(join(out, `${relPath}.${ext}`), 'utf8');
}

export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(inject('redisUrl'));
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/** What a batch test runs on: the recognizing stand-in, the test database, stt workers in this process. */
export interface BatchRig {
  standin: GroqStandin;
  stores: MongoStores;
  worker: WorkerProcess;
  /** A runner on the rig's prefix and stores. */
  runner(extra?: Partial<BatchRunnerDeps>): BatchRunner;
  close(): Promise<void>;
}

export async function startBatchRig(prefix: string, dbName: string, concurrency: number): Promise<BatchRig> {
  const standin = await recognizingStandin();
  const stores = await openMongoStores(testMongoUrl(), dbName);
  const config = testConfig(prefix, testMongoUrl(), {
    VOXQ_MONGO_DB: dbName,
    VOXQ_STT: 'groq',
    GROQ_API_KEY: STANDIN_API_KEY,
    GROQ_BASE_URL: standin.url,
    VOXQ_STT_REQUESTS_PER_MINUTE: '6000',
  });
  const worker = startWorkerProcess({ config, stages: ['stt'], concurrency, stores: { ...stores, close: () => Promise.resolve() }, log: quietLogger() });
  const records = stores.batches;
  if (!records) throw new Error('no batch store');
  return {
    standin,
    stores,
    worker,
    runner: (extra = {}) => new BatchRunner({ redisUrl: config.REDIS_URL, prefix, records, audio: stores.audio, attempts: 3, log: quietLogger(), ...extra }),
    async close() {
      await worker.close();
      await stores.db.dropDatabase();
      await stores.close();
      await standin.close();
      await deletePrefix(prefix);
    },
  };
}
