// `voxq transcribe` as a user runs it (dist/cli.js, its own STT workers, the Groq stand-in):
// SIGKILL mid-run, then run again: it completes, every transcript right, each file recorded
// once, no chunk transcribed more than the one that was in flight at the kill.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BATCH_RECORDS_COLLECTION } from '../../src/shared/store/mongo-batch-record-store.js';
import { STANDIN_API_KEY, type GroqStandin } from '../support/groq-standin.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { spawnVoxq } from '../support/voxq-process.js';
import { buildSpeechTree, type SpeechTree } from './support/speech-tree.js';
import { deletePrefix, expectedText, readOut, recognizingStandin, transcriptionCalls } from './support/batch-harness.js';

let tree: SpeechTree;
let standin: GroqStandin;
let out: string;
const prefix = `vk${randomBytes(5).toString('hex')}`;
const dbName = uniqueDbName('batchcli');

beforeAll(async () => {
  [tree, standin] = await Promise.all([buildSpeechTree(), recognizingStandin()]);
  out = await mkdtemp(join(tmpdir(), 'voxq-batch-cli-'));
}, 120_000);

afterAll(async () => {
  await standin?.close();
  const client = new MongoClient(testMongoUrl());
  await client.db(dbName).dropDatabase();
  await client.close();
  await deletePrefix(prefix);
  await tree?.cleanup();
  if (out) await rm(out, { recursive: true, force: true });
});

/** `voxq transcribe` against the stand-in, with its own Redis prefix and database. */
function transcribeEnv(keyPrefix: string, db: string): Record<string, string> {
  return {
    REDIS_URL: inject('redisUrl'),
    MONGO_URL: testMongoUrl(),
    VOXQ_MONGO_DB: db,
    VOXQ_PREFIX: keyPrefix,
    VOXQ_STT: 'groq',
    GROQ_API_KEY: STANDIN_API_KEY,
    GROQ_BASE_URL: standin.url,
    VOXQ_STT_REQUESTS_PER_MINUTE: '6000',
    VOXQ_LOCK_DURATION_MS: '3000',
    VOXQ_LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: 'true',
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('voxq transcribe', () => {
  it('after SIGKILL mid-run, a re-run does what is left: all transcripts right, no duplicates', { timeout: 150_000 }, async () => {
    const env = transcribeEnv(prefix, dbName);
    const args = ['transcribe', tree.root, '--out', out, '--format', 'srt,txt,json', '--workers', '1', '--max-chunk-seconds', '8'];
    // Slow answers, so the kill lands mid-run.
    standin.failNext(...Array.from({ length: 40 }, () => ({ hangMs: 150, endpoint: 'transcriptions' as const })));
    const killed = spawnVoxq(args, env);
    // Kill it once three chunks are through (one worker: the fourth request arrives only after
    // the third was answered); if it ended before that, say how.
    const threeThrough = new Promise<void>((resolve) => {
      const check = () => {
        if (standin.requests.filter((r) => r.path.endsWith('/audio/transcriptions')).length >= 4) {
          standin.events.off('request', check);
          resolve();
        }
      };
      standin.events.on('request', check);
      check();
    });
    const endedEarly = await Promise.race([threeThrough.then(() => false), killed.exited.then(() => true)]);
    expect(endedEarly, `voxq transcribe ended before the kill:\n${killed.stderr().slice(-3000)}`).toBe(false);
    killed.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    const callsBefore = transcriptionCalls(standin);

    const rerun = spawnVoxq(args, env);
    const code = await rerun.exited;
    expect(code, rerun.stderr()).toBe(1); // the corrupt file fails, and only it
    const stdout = rerun.stdout();
    expect(stdout).toMatch(/FAILED quebrado\.wav: corrupt audio \(/);
    expect(stdout).toMatch(/skipped notas\.txt/);
    expect(rerun.stderr()).toMatch(/files · .* h audio · .*× real time · ETA/);

    for (const file of tree.audio) {
      expect((await readOut(out, file.relPath, 'txt')).trim(), file.relPath).toBe(expectedText(file));
    }
    const client = new MongoClient(testMongoUrl());
    try {
      const records = await client.db(dbName).collection(BATCH_RECORDS_COLLECTION).find({}).toArray();
      const distinct = tree.audio.length - Object.keys(tree.duplicateOf).length;
      expect(records).toHaveLength(distinct);
      const chunks = records.reduce((n, r) => n + (r.chunkCount as number), 0);
      // Each chunk once, plus at most the one in flight when the process died (one worker).
      expect(transcriptionCalls(standin)).toBeGreaterThanOrEqual(chunks);
      expect(transcriptionCalls(standin)).toBeLessThanOrEqual(chunks + 1);
      expect(callsBefore).toBeLessThan(chunks);
    } finally {
      await client.close();
    }
    const files = await listFiles(out);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.txt'))).toHaveLength(tree.audio.length);
  });

  it('on Ctrl-C stops with exit 130 and says so; a re-run finishes what was left', { timeout: 150_000 }, async () => {
    const intPrefix = `vi${randomBytes(5).toString('hex')}`;
    const intDb = uniqueDbName('batchint');
    const intOut = await mkdtemp(join(tmpdir(), 'voxq-batch-int-'));
    const env = transcribeEnv(intPrefix, intDb);
    try {
      const args = ['transcribe', tree.root, '--out', intOut, '--format', 'txt', '--workers', '1', '--max-chunk-seconds', '8'];
      standin.failNext(...Array.from({ length: 40 }, () => ({ hangMs: 150, endpoint: 'transcriptions' as const })));
      const before = transcriptionCalls(standin);
      const interrupted = spawnVoxq(args, env);
      const firstCall = new Promise<void>((resolve) => {
        const check = () => {
          if (transcriptionCalls(standin) > before) {
            standin.events.off('request', check);
            resolve();
          }
        };
        standin.events.on('request', check);
      });
      const endedEarly = await Promise.race([firstCall.then(() => false), interrupted.exited.then(() => true)]);
      expect(endedEarly, interrupted.stderr().slice(-3000)).toBe(false);
      interrupted.kill('SIGINT');
      expect(await interrupted.exited, interrupted.stderr().slice(-3000)).toBe(130);
      expect(interrupted.stderr()).toContain('interrupted: stopping');
      expect(interrupted.stdout()).toContain('INTERRUPTED');

      const rerun = spawnVoxq(args, env);
      expect(await rerun.exited, rerun.stderr().slice(-3000)).toBe(1); // only the corrupt file fails
      for (const file of tree.audio) {
        expect((await readOut(intOut, file.relPath, 'txt')).trim(), file.relPath).toBe(expectedText(file));
      }
    } finally {
      const client = new MongoClient(testMongoUrl());
      await client.db(intDb).dropDatabase();
      await client.close();
      await deletePrefix(intPrefix);
      await rm(intOut, { recursive: true, force: true });
    }
  });
});
