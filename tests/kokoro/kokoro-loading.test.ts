// Where the model comes from: the hub path (a local server laid out like the hub; the download and
// its progress run for real, into the cache), the cache on the next start, a local folder with
// remote loading off, and which TTS voxq picks when VOXQ_TTS is unset.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/shared/config.js';
import { createTtsProvider, defaultTtsName } from '../../src/shared/providers/create-providers.js';
import { DEFAULT_KOKORO_MODEL, kokoroModelPresent, loadKokoro, type LoadProgress } from '../../src/shared/providers/kokoro/kokoro-model.js';
import { defaultIntraOpThreads, KokoroTtsProvider } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import { toInputIds, tokenizePhonemes } from '../../src/shared/providers/kokoro/kokoro-vocab.js';
import { everyTenPercent } from '../../src/shared/providers/kokoro/load-progress-log.js';
import { startHubServer, type HubServer } from '../support/kokoro/hub-server.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';

const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

let folder: KokoroFolder;
let hub: HubServer;
let cacheDir: string;
beforeAll(async () => {
  folder = await makeKokoroFolder({ layers: 1 });
  hub = await startHubServer(DEFAULT_KOKORO_MODEL, folder.files);
  cacheDir = await mkdtemp(join(tmpdir(), 'voxq-kokoro-cache-'));
});
afterAll(async () => {
  await hub?.close();
  await folder?.remove();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('Kokoro from the hub', () => {
  it('downloads on the first start with progress, speaks, and starts from the cache the next time', async () => {
    const model = { model: DEFAULT_KOKORO_MODEL, cacheDir, hubUrl: hub.url, dtype: 'q8' as const };
    expect(kokoroModelPresent(model)).toBe(false);
    const progress: LoadProgress[] = [];
    const first = new KokoroTtsProvider({ model, device: 'cpu', onProgress: (p) => progress.push(p) });
    try {
      await first.load();
      const audio = await first.synthesize('Olá!', PT_BR);
      expect(audio.durationMs).toBeGreaterThan(0);
    } finally {
      await first.close();
    }
    const modelFile = 'onnx/model_quantized.onnx';
    expect(hub.requests).toContain(`${DEFAULT_KOKORO_MODEL}/resolve/main/${modelFile}`);
    const fileProgress = progress.filter((p) => p.file === modelFile && p.status === 'progress');
    expect(fileProgress.length).toBeGreaterThan(1);
    expect(fileProgress.at(-1)).toMatchObject({ loaded: folder.files.get(modelFile)?.byteLength, total: folder.files.get(modelFile)?.byteLength });
    expect(progress.map((p) => p.status)).toEqual(expect.arrayContaining(['initiate', 'download', 'progress', 'done']));
    expect(await readdir(join(cacheDir, DEFAULT_KOKORO_MODEL, 'onnx'))).toContain('model_quantized.onnx');
    expect(kokoroModelPresent(model)).toBe(true);

    const before = hub.requests.length;
    const second = new KokoroTtsProvider({ model, device: 'cpu' });
    try {
      await second.load();
      await second.synthesize('De novo.', PT_BR);
    } finally {
      await second.close();
    }
    expect(hub.requests.slice(before).filter((r) => r.endsWith('.onnx'))).toEqual([]);
  });

  it('loads the dtype asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxq-kokoro-cache-'));
    const provider = new KokoroTtsProvider({ model: { model: DEFAULT_KOKORO_MODEL, cacheDir: dir, hubUrl: hub.url, dtype: 'fp16' }, device: 'cpu', threads: 0 });
    try {
      await provider.load();
      expect(hub.requests).toContain(`${DEFAULT_KOKORO_MODEL}/resolve/main/onnx/model_fp16.onnx`);
    } finally {
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a model the hub does not have fails the load with its name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxq-kokoro-cache-'));
    const provider = new KokoroTtsProvider({ model: { model: 'nobody/no-such-model', cacheDir: dir, hubUrl: hub.url, dtype: 'q8' }, device: 'cpu' });
    try {
      await expect(provider.load()).rejects.toThrow(/could not load the model nobody\/no-such-model/);
    } finally {
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Kokoro from a local folder', () => {
  it('never contacts the hub', async () => {
    const before = hub.requests.length;
    const provider = new KokoroTtsProvider({
      // A hub URL that would answer: remote loading must be off, not merely unreachable.
      model: { model: DEFAULT_KOKORO_MODEL, modelDir: folder.dir, cacheDir, hubUrl: hub.url, dtype: 'q8' },
      device: 'cpu',
    });
    try {
      await provider.synthesize('Sem internet.', PT_BR);
    } finally {
      await provider.close();
    }
    expect(hub.requests.length).toBe(before);
  });
});

describe('the default TTS', () => {
  it('is Kokoro when its model folder is configured, else espeak-ng; VOXQ_TTS wins', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'voxq-kokoro-cache-'));
    try {
      const bare = configSchema.parse({ VOXQ_KOKORO_CACHE_DIR: empty });
      expect(defaultTtsName(bare)).toBe('espeak');
      expect(createTtsProvider(bare).info().provider).toBe('espeak-ng');
      const withModel = configSchema.parse({ VOXQ_KOKORO_CACHE_DIR: empty, VOXQ_KOKORO_MODEL_DIR: folder.dir });
      expect(defaultTtsName(withModel)).toBe('kokoro');
      expect(createTtsProvider(withModel).info().provider).toBe('kokoro');
      const chosen = configSchema.parse({ VOXQ_KOKORO_CACHE_DIR: empty, VOXQ_KOKORO_MODEL_DIR: folder.dir, VOXQ_TTS: 'espeak' });
      expect(createTtsProvider(chosen).info().provider).toBe('espeak-ng');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('is Kokoro once a download sits in the cache', () => {
    const cached = configSchema.parse({ VOXQ_KOKORO_CACHE_DIR: cacheDir });
    expect(defaultTtsName(cached)).toBe('kokoro');
  });
});

describe('Kokoro on devices and cores', () => {
  it('the fixture tokenizer (transformers.js) and voxq tokenize phonemes alike', async () => {
    const tts = await loadKokoro({ model: 'local', modelDir: folder.dir, cacheDir, dtype: 'q8', device: 'cpu' });
    const phonemes = 'ˈola, tˈudu bˈẽj̃? sˈiɲ!';
    const encoded = tts.tokenizer(phonemes) as { input_ids: { tolist(): bigint[][] } };
    const theirs = encoded.input_ids.tolist()[0]?.map(Number);
    expect(theirs).toEqual(toInputIds(tokenizePhonemes(phonemes).ids));
  });

  it('leaves one core to the event loop, shared by the synthesis threads', () => {
    expect(defaultIntraOpThreads(1, 2)).toBe(1);
    expect(defaultIntraOpThreads(1, 16)).toBe(15);
    expect(defaultIntraOpThreads(2, 16)).toBe(7);
    expect(defaultIntraOpThreads(4, 2)).toBe(1);
    expect(defaultIntraOpThreads(0, 16)).toBeUndefined();
  });

  const cudaLibrary = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
  it.skipIf(existsSync(cudaLibrary))('device cuda without onnxruntime-node CUDA libraries fails the load and says what is missing', async () => {
    const provider = new KokoroTtsProvider({ model: { model: 'local', modelDir: folder.dir, cacheDir, dtype: 'q8' }, device: 'cuda' });
    try {
      await expect(provider.load()).rejects.toThrow(/on cuda: .*CUDA provider libraries.*VOXQ_KOKORO_DEVICE=cpu/);
    } finally {
      await provider.close();
    }
  });
});

describe('download progress for people', () => {
  it('reports each file once per 10 % step, in order, and ignores other statuses', () => {
    const steps: string[] = [];
    const onProgress = everyTenPercent(({ file, percent }) => steps.push(`${file} ${percent}`));
    onProgress({ status: 'initiate', file: 'a' });
    for (const progress of [0, 3, 9.9, 10, 15, 55, 100]) onProgress({ status: 'progress', file: 'a', progress, loaded: progress, total: 100 });
    onProgress({ status: 'progress', file: 'b', progress: 100, loaded: 5, total: 5 });
    onProgress({ status: 'done', file: 'a' });
    expect(steps).toEqual(['a 0', 'a 10', 'a 50', 'a 100', 'b 100']);
  });
});
