// The `voxq` command as a user meets it: the demo on a fresh setup, help, and bad arguments.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { spawnVoxq } from '../support/voxq-process.js';

let dir: string;
const prefix = `vc${randomBytes(4).toString('hex')}`;
const baseEnv = () => ({ REDIS_URL: inject('redisUrl'), VOXQ_PREFIX: prefix, GROQ_API_KEY: '', OTEL_SDK_DISABLED: 'true' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voxq-cli-'));
});
afterAll(async () => {
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

describe('voxq demo', () => {
  it('runs two real turns with no MONGO_URL and no GROQ_API_KEY, saying which fakes it used', async () => {
    const out = join(dir, 'reply.wav');
    const demo = spawnVoxq(['demo', '--out', out], { ...baseEnv(), MONGO_URL: '' });
    expect(await demo.exited, demo.stderr()).toBe(0);
    const stdout = demo.stdout();
    expect(stdout).toContain('MONGO_URL is not set: starting the bundled test database');
    expect(stdout).toContain('GROQ_API_KEY is not set: this demo uses the FAKE speech-to-text and LLM');
    expect(stdout).toContain('you said:   Olá! Qual é a previsão do tempo para amanhã em São Paulo?');
    expect(stdout).toContain('Já conversamos 1 vez.');
    expect(stdout).toMatch(/MongoDB holds session sess_[0-9a-f-]+ with 4 messages/);
    // Each turn: the stage timings, then how soon its reply started (first token, first audio).
    expect(stdout).toMatch(/^timing: +stt \d+ ms wait \+ \d+ ms work · llm .* · total \d+ ms$/m);
    const firsts = [...stdout.matchAll(/^latency: +first token (\d+) ms · first audio (\d+) ms after enqueue$/gm)];
    expect(firsts).toHaveLength(2);
    for (const [, token, audio] of firsts) expect(Number(audio)).toBeGreaterThanOrEqual(Number(token));
    // --out holds the whole reply of turn 1, not its first sentence: as long as the printed reply audio.
    const wav = await probeAudio(await readFile(out), { trustWavHeader: false });
    expect(wav.durationMs).toBeGreaterThan(500);
    const printedS = Number(/^audio: +wav \d+ Hz, ([\d.]+) s/m.exec(stdout)?.[1]);
    expect(wav.durationMs / 1000).toBeCloseTo(printedS, 1);
  });
});

describe('voxq arguments', () => {
  it('prints help that names every command and the configuration', async () => {
    const help = spawnVoxq(['--help'], baseEnv());
    expect(await help.exited).toBe(0);
    for (const word of ['worker', 'turn', 'demo', 'GROQ_API_KEY', 'README']) expect(help.stdout()).toContain(word);
  });

  it('rejects bad arguments with a message naming them and a non-zero exit', async () => {
    const stages = spawnVoxq(['worker', '--stages', 'stt,asr'], { ...baseEnv(), MONGO_URL: 'mongodb://127.0.0.1:1' });
    expect(await stages.exited).toBe(2);
    expect(stages.stderr()).toContain('unknown stage(s) asr');

    const concurrency = spawnVoxq(['worker', '--concurrency', 'lots'], baseEnv());
    expect(await concurrency.exited).not.toBe(0);
    expect(concurrency.stderr()).toContain('must be a positive whole number');

    const both = spawnVoxq(['turn'], { ...baseEnv(), MONGO_URL: 'mongodb://127.0.0.1:1' });
    expect(await both.exited).toBe(2);
    expect(both.stderr()).toContain('give exactly one of --audio FILE or --text TEXT');

    const noMongo = spawnVoxq(['turn', '--text', 'oi'], { ...baseEnv(), MONGO_URL: '' });
    expect(await noMongo.exited).toBe(2);
    expect(noMongo.stderr()).toContain('MONGO_URL is not set');

    const badEnv = spawnVoxq(['worker'], { ...baseEnv(), VOXQ_TEMPERATURE: 'hot', MONGO_URL: 'mongodb://127.0.0.1:1' });
    expect(await badEnv.exited).toBe(2);
    expect(badEnv.stderr()).toContain('VOXQ_TEMPERATURE');

    const missing = spawnVoxq(['turn', '--audio', join(dir, 'nope.wav')], { ...baseEnv(), MONGO_URL: 'mongodb://127.0.0.1:1' });
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('no such file');
  });
});
