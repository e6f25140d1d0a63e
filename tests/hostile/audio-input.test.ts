// Hostile audio at every entry: the probe behind the SDK, the HTTP API and the CLI
// (probeAudio), the batch's probe and decoder (probeAudioFile, decodeWithVad), the conversion a
// speech-native LLM uses (toWav), and the entries themselves. Decompression bombs are refused by
// the length they declare before anything decodes them; a header that lies is caught by the
// decoder's own limit; playlists are refused without opening what they list.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { MAX_BATCH_AUDIO_MS, MAX_TURN_AUDIO_MS } from '../../src/shared/audio/audio-limits.js';
import { decodeWithVad } from '../../src/shared/audio/prepare-audio.js';
import { probeAudioFile } from '../../src/shared/audio/probe-file.js';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { toWav } from '../../src/shared/audio/to-wav.js';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { InputError } from '../../src/shared/errors.js';
import { runProcess } from '../../src/shared/run-process.js';
import { expectError, startApiHarness, type ApiHarness } from '../http/api-harness.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { countingServer, makeHostileAudio, mkfifo, TURN_REFUSALS, type CountingServer, type HostileAudio } from './support/hostile-audio.js';

let server: CountingServer;
let audio: HostileAudio;

beforeAll(async () => {
  server = await countingServer();
  audio = await makeHostileAudio(server);
}, 300_000);

afterAll(async () => {
  await audio?.cleanup();
  await server?.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InputError)) throw new Error(`expected an InputError, got ${error instanceof Error ? `${error.name}: ${error.message}` : 'success'}`);
  return error.code;
}

describe('the fixtures are what they claim', () => {
  it('bombs are small and long; the lying FLAC says 1 s', async () => {
    expect((await stat(audio.flacBomb2h)).size).toBeLessThan(32 * 1024);
    expect((await stat(audio.flacBomb10h)).size).toBeLessThan(64 * 1024);
    expect((await stat(audio.opusBomb15min)).size).toBeLessThan(256 * 1024);
    expect((await probeAudioFile(audio.flacBomb2h)).durationMs).toBe(7_200_000);
    expect((await probeAudioFile(audio.lyingFlac)).durationMs).toBe(1000);
  });

  it('without the guards, ffprobe reads the files a playlist lists (the hazard)', async () => {
    const { stdout } = await runProcess('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', audio.concatRelative], { timeoutMs: 30_000 });
    expect(stdout.toString('utf8')).toContain('pcm_s16le'); // the tone's stream, read through the playlist
  });
});

describe('probeAudio: the check behind the SDK, the HTTP API and the CLI', () => {
  it.each(TURN_REFUSALS)('refuses %s (%s) as %s', async (_name, file, code) => {
    expect(await codeOf(probeAudio(await readFile(audio[file]), { trustWavHeader: false }))).toBe(code);
  });

  it('refuses a WAV whose header declares more than the limit (1 Hz, 2 000 samples: 33 min)', async () => {
    const wav = encodeWavPcm16(new Int16Array(2000), 1);
    const error = await probeAudio(wav).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'audio_too_long' });
    expect((error as Error).message).toMatch(/33\.3 min; the limit is 10\.0 min/);
  });

  it('accepts audio up to the limit, and takes a lower limit', async () => {
    const wav = encodeWavPcm16(new Int16Array(8000 * 60), 8000);
    expect((await probeAudio(wav)).durationMs).toBe(60_000);
    expect(await codeOf(probeAudio(wav, { maxDurationMs: 59_000 }))).toBe('audio_too_long');
    expect(MAX_TURN_AUDIO_MS).toBe(600_000);
  });

  it('names the playlist and never asks the HTTP server for its segment', async () => {
    const error = await probeAudio(await readFile(audio.hlsRemote)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/playlist or reference file \(hls\).*never opens/);
    expect(server.requests).toEqual([]);
  });
});

describe('batch: probeAudioFile and decodeWithVad', () => {
  it('has its own, larger limit: 2 h passes, 10 h is refused', async () => {
    expect(MAX_BATCH_AUDIO_MS).toBe(3 * 3_600_000);
    expect((await probeAudioFile(audio.flacBomb2h)).durationMs).toBe(7_200_000);
    const error = await probeAudioFile(audio.flacBomb10h).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'audio_too_long' });
    expect((error as Error).message).toContain('10.00 h; the limit is 3.00 h');
  });

  it.each([
    ['absolute ffconcat', 'concatAbsolute'],
    ['relative ffconcat', 'concatRelative'],
    ['HLS → HTTP', 'hlsRemote'],
    ['HLS → local file', 'hlsLocal'],
    ['SDP', 'sdp'],
  ] as const)('refuses a %s in the folder without opening what it lists', async (_name, key) => {
    expect(await codeOf(probeAudioFile(audio[key]))).toBe('audio_unsupported_container');
    expect(await codeOf(decodeWithVad(audio[key], undefined))).toBe('audio_unsupported_container');
    expect(server.requests).toEqual([]);
  });

  it('refuses a playlist that lists a FIFO: opening it would block, so returning at all shows nothing was opened', async () => {
    const fifo = join(audio.dir, 'waiting.wav');
    await mkfifo(fifo);
    const list = join(audio.dir, 'fifo.ffconcat');
    await writeFile(list, "ffconcat version 1.0\nfile 'waiting.wav'\n");
    expect(await codeOf(probeAudioFile(list))).toBe('audio_unsupported_container');
    expect(await codeOf(decodeWithVad(list, undefined))).toBe('audio_unsupported_container');
  });

  it('reads a file whose name looks like a protocol or a playlist as that one file', async () => {
    const odd = join(audio.dir, 'concat:tone.wav|tone.wav');
    await writeFile(odd, await readFile(audio.tone));
    expect((await probeAudioFile(odd)).durationMs).toBe(1000);
    const http = join(audio.dir, 'http:');
    await writeFile(http, await readFile(audio.tone));
    expect((await probeAudioFile(http)).durationMs).toBe(1000);
    expect(server.requests).toEqual([]);
  });

  it('stops decoding a FLAC whose header understates its length, at the limit', async () => {
    const error = await decodeWithVad(audio.lyingFlac, undefined, 'ffmpeg', 1000, 60_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'audio_too_long' });
    expect((error as Error).message).toContain('decodes to more than 1.0 min');
  });

  it('decodes the real thing as before', async () => {
    const { samples } = await decodeWithVad(audio.tone, undefined);
    expect(samples.length).toBe(16_000);
  });
});

describe('toWav: the conversion before a speech-native LLM hears a turn', () => {
  it('refuses the lying FLAC at the turn limit, a garbled one as corrupt, playlists as such', async () => {
    const lying = await toWav(await readFile(audio.lyingFlac)).catch((e: unknown) => e);
    expect(lying).toMatchObject({ code: 'audio_too_long' });
    expect((lying as Error).message).toContain('decodes to more than 10.0 min');
    expect(await codeOf(toWav(await readFile(audio.garbledFlac)))).toBe('audio_corrupt');
    for (const path of [audio.concatAbsolute, audio.hlsLocal, audio.hlsRemote, audio.sdp]) {
      expect(await codeOf(toWav(await readFile(path)))).toBe('audio_unsupported_container');
    }
    expect(server.requests).toEqual([]);
    expect((await toWav(await readFile(audio.tone))).byteLength).toBeGreaterThan(30_000);
  });
});

describe('the entries', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness();
  }, 120_000);
  afterAll(async () => {
    await api?.close();
  });

  it('SDK: enqueueTurn refuses each with its code, and nothing is stored or queued', async () => {
    const { client } = api.pipeline;
    const session = await client.createSession('hostile-sdk');
    const before = (await api.pipeline.keys()).sort();
    for (const [name, file, code] of TURN_REFUSALS) {
      expect({ name, code: await codeOf(client.enqueueTurn({ sessionId: session.sessionId, audio: await readFile(audio[file]) })) }).toEqual({ name, code });
    }
    expect((await api.pipeline.keys()).sort()).toEqual(before);
    expect(await Promise.all(api.pipeline.queues.all().map((q) => q.count()))).toEqual([0, 0, 0]);
    expect(server.requests).toEqual([]);
  }, 180_000);

  it('HTTP: POST /v1/turns with each as the audio part answers 400 with its code', async () => {
    const key = await api.key('turns:read', 'turns:write');
    const session = await api.pipeline.client.createSession('hostile-http');
    for (const [name, file, code] of TURN_REFUSALS) {
      const form = new FormData();
      form.set('sessionId', session.sessionId);
      form.set('audio', new Blob([await readFile(audio[file])]), 'recording');
      const body = await expectError(await api.fetch('/v1/turns', { method: 'POST', body: form, key }), 400, code).catch((e: unknown) => {
        throw new Error(`${name}: ${String(e)}`);
      });
      expect(body.message.length).toBeGreaterThan(10);
    }
    expect(await Promise.all(api.pipeline.queues.all().map((q) => q.count()))).toEqual([0, 0, 0]);
  }, 180_000);

  it('CLI: voxq turn --audio with a bomb or a playlist exits 2 and says why', async () => {
    const prefix = `vh${randomBytes(4).toString('hex')}`;
    const dbName = uniqueDbName('hostile_cli');
    const env = {
      ...process.env,
      REDIS_URL: inject('redisUrl'),
      MONGO_URL: testMongoUrl(),
      VOXQ_MONGO_DB: dbName,
      VOXQ_PREFIX: prefix,
      OTEL_SDK_DISABLED: 'true',
      VOXQ_LOG_LEVEL: 'silent',
    };
    const cli = (file: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'turn', '--audio', file, '--user', 'hostile-cli'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const bomb = await cli(audio.flacBomb2h);
    expect(bomb.code, bomb.stderr).toBe(2);
    expect(bomb.stderr).toContain('the audio is 2.00 h; the limit is 10.0 min');
    const playlist = await cli(audio.hlsRemote);
    expect(playlist.code, playlist.stderr).toBe(2);
    expect(playlist.stderr).toContain('playlist or reference file (hls)');
    expect(server.requests).toEqual([]);
    // What the CLI created before it was refused: its sessions.
    const mongo = await MongoClient.connect(testMongoUrl());
    await mongo.db(dbName).dropDatabase();
    await mongo.close();
    const redis = new Redis(inject('redisUrl'));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }, 180_000);
});
