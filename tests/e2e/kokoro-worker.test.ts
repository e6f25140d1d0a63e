// Kokoro as a user runs it: the built `voxq worker` with VOXQ_TTS unset and a Kokoro folder
// configured picks Kokoro, loads it (synthesis thread from dist/) before taking jobs, and a
// `voxq turn` gets a 24 kHz reply; SIGTERM stops the threads and the process exits 0.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/shared/audio/probe.js';
import { DEFAULT_KOKORO_MODEL } from '../../src/shared/providers/kokoro/kokoro-model.js';
import { startHubServer } from '../support/kokoro/hub-server.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';
import { uniqueDbName } from '../support/mongo.js';
import { spawnVoxq, voxqStateEnv, type VoxqProcess } from '../support/voxq-process.js';

const prefix = `vk${randomBytes(4).toString('hex')}`;
const dbName = uniqueDbName('kokoro');
let folder: KokoroFolder;
let dir: string;
const processes: VoxqProcess[] = [];

beforeAll(async () => {
  folder = await makeKokoroFolder({ layers: 2 });
  dir = await mkdtemp(join(tmpdir(), 'voxq-kokoro-e2e-'));
});
afterAll(async () => {
  await stopProcesses(processes);
  await dropTestState({ prefix, dbName });
  await folder?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('voxq worker with Kokoro', () => {
  it('chooses Kokoro when its model is there, loads it before work, speaks a turn, and stops cleanly', async () => {
    const env = {
      ...voxqStateEnv(prefix, dbName),
      VOXQ_STT: 'fake',
      VOXQ_LLM: 'fake',
      VOXQ_TTS: '',
      VOXQ_KOKORO_MODEL_DIR: folder.dir,
      VOXQ_KOKORO_CACHE_DIR: join(dir, 'cache'),
      OTEL_SDK_DISABLED: 'true',
    };
    const worker = spawnVoxq(['worker', '--stages', 'stt,llm,tts'], env);
    processes.push(worker);
    const loaded = await worker.waitForLog('model loaded');
    expect(String(loaded.model)).toContain(folder.dir);
    await worker.waitForLog('workers started');

    const outPath = join(dir, 'resposta.wav');
    const turn = spawnVoxq(['turn', '--text', 'Quanto custa o frete?', '--out', outPath], env);
    processes.push(turn);
    expect(await turn.exited, turn.stderr()).toBe(0);
    const reply = await probeAudio(await readFile(outPath), { trustWavHeader: false });
    expect(reply).toMatchObject({ container: 'wav', codec: 'pcm_s16le', sampleRateHz: 24_000, channels: 1 });
    expect(reply.durationMs).toBeGreaterThan(500);

    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 90_000);

  it("a user's first `voxq demo` with VOXQ_TTS=kokoro downloads the model from the hub, showing progress", async () => {
    const hub = await startHubServer(DEFAULT_KOKORO_MODEL, folder.files);
    try {
      const out = join(dir, 'demo.wav');
      const demo = spawnVoxq(['demo', '--out', out], {
        ...voxqStateEnv(prefix, dbName),
        GROQ_API_KEY: '',
        VOXQ_TTS: 'kokoro',
        VOXQ_KOKORO_HUB_URL: hub.url,
        VOXQ_KOKORO_CACHE_DIR: join(dir, 'demo-cache'),
        OTEL_SDK_DISABLED: 'true',
      });
      processes.push(demo);
      expect(await demo.exited, demo.stderr()).toBe(0);
      const stdout = demo.stdout();
      expect(stdout).toContain(`loading the TTS model ${DEFAULT_KOKORO_MODEL} (q8)`);
      // Progress as the bytes arrive (the hub sends 16 KB chunks), then the end.
      expect(stdout).toMatch(/onnx\/model_quantized\.onnx: [1-9]0% of [\d.]+ [KM]B/);
      expect(stdout).toMatch(/onnx\/model_quantized\.onnx: 100% of [\d.]+ [KM]B/);
      expect(stdout).toContain('tts=kokoro');
      const reply = await probeAudio(await readFile(out), { trustWavHeader: false });
      expect(reply.sampleRateHz).toBe(24_000);
    } finally {
      await hub.close();
    }
  }, 120_000);

  it('on a GPU worker, reserves Kokoro\'s memory on the pinned card before loading it', async () => {
    const worker = spawnVoxq(['worker', '--stages', 'tts', '--gpu', '1'], {
      ...voxqStateEnv(prefix, dbName),
      VOXQ_GPUS: '0:NVIDIA L4:23034,1:NVIDIA L4:23034',
      VOXQ_TTS: 'kokoro',
      VOXQ_KOKORO_MODEL_DIR: folder.dir,
      VOXQ_KOKORO_CACHE_DIR: join(dir, 'cache'),
      OTEL_SDK_DISABLED: 'true',
    });
    processes.push(worker);
    const pinned = await worker.waitForLog('worker pinned to gpu');
    const reserved = await worker.waitForLog('gpu model memory reserved');
    const loaded = await worker.waitForLog('model loaded');
    expect(pinned).toMatchObject({ gpuIndex: 1, simulated: true });
    expect(reserved).toMatchObject({ service: 'tts', gpuIndex: 1, residentMb: 1024, jobMb: 512 });
    expect(Number(loaded.time)).toBeGreaterThanOrEqual(Number(reserved.time));
    await worker.waitForLog('workers started');
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 60_000);

  it('stops with the reason when the configured model cannot load', async () => {
    const worker = spawnVoxq(['worker', '--stages', 'tts'], {
      ...voxqStateEnv(prefix, dbName),
      VOXQ_TTS: 'kokoro',
      VOXQ_KOKORO_MODEL_DIR: join(dir, 'no-such-model'),
      VOXQ_KOKORO_CACHE_DIR: join(dir, 'cache'),
      OTEL_SDK_DISABLED: 'true',
    });
    processes.push(worker);
    expect(await worker.exited).not.toBe(0);
    expect(worker.stderr()).toContain('could not load the model');
    expect(worker.stderr()).toContain('no-such-model');
  }, 60_000);
});
