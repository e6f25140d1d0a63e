// Hostile files in a folder given to batch transcription (the BatchRunner, real Redis and the test
// database; no provider is needed: the one real recording is silence). A 10-hour bomb, playlists
// pointing at a local HTTP server and at files beside them: each fails alone with a reason that
// names its code, nothing is fetched, and the silent recording is still done.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import { BatchRunner } from '../../src/producers/batch/batch-runner.js';
import { deletePrefix } from '../batch/support/batch-harness.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { quietLogger, testConfig } from '../support/pipeline.js';
import { countingServer, makeHostileAudio, type CountingServer, type HostileAudio } from './support/hostile-audio.js';

let server: CountingServer;
let audio: HostileAudio;
let stores: MongoStores;
let input: string;
let out: string;
const prefix = `vhb${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  server = await countingServer();
  audio = await makeHostileAudio(server);
  stores = await openMongoStores(testMongoUrl(), uniqueDbName('hostile_batch'));
  input = await mkdtemp(join(tmpdir(), 'voxq-hostile-in-'));
  out = await mkdtemp(join(tmpdir(), 'voxq-hostile-out-'));
  await writeFile(join(input, 'silence.wav'), encodeWavPcm16(new Int16Array(16_000 * 2), 16_000));
  await copyFile(audio.flacBomb10h, join(input, 'bomb.flac'));
  await copyFile(audio.hlsRemote, join(input, 'remote.m3u8'));
  await copyFile(audio.hlsLocal, join(input, 'local.mp3')); // a playlist with an audio name
  await writeFile(join(input, 'list.ffconcat'), "ffconcat version 1.0\nfile 'silence.wav'\nfile 'silence.wav'\n");
  await copyFile(audio.sdp, join(input, 'stream.sdp'));
}, 300_000);

afterAll(async () => {
  await stores?.db.dropDatabase();
  await stores?.close();
  await deletePrefix(prefix);
  for (const dir of [input, out]) if (dir) await rm(dir, { recursive: true, force: true });
  await audio?.cleanup();
  await server?.close();
});

describe('batch transcription of a folder with hostile files', () => {
  it('fails each alone, naming its code, fetches nothing, and still does the real recording', async () => {
    if (!stores.batches) throw new Error('no batch store');
    const runner = new BatchRunner({ redisUrl: testConfig(prefix, undefined).REDIS_URL, prefix, records: stores.batches, audio: stores.audio, attempts: 1, log: quietLogger() });
    const summary = await runner.run({ input, out, formats: ['txt'], language: 'pt-BR', model: 'whisper-large-v3-turbo' });

    const reasons = Object.fromEntries([...summary.failures, ...summary.skipped].map((f) => [f.relPath, f.reason]));
    expect(reasons['bomb.flac']).toMatch(/10\.00 h; the limit is 3\.00 h/);
    for (const playlist of ['remote.m3u8', 'local.mp3', 'list.ffconcat', 'stream.sdp']) {
      expect(reasons[playlist], playlist).toMatch(/playlist or reference file/);
    }
    expect(summary.files.find((f) => f.relPath === 'silence.wav')?.status).toBe('silent');
    expect(server.requests).toEqual([]);
  }, 180_000);
});
