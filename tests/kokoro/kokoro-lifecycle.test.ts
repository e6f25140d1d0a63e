// The synthesis pool's edges: closing while a run is on a thread (onnxruntime must not be torn
// down mid-run), aborting a request still queued or one on its thread, a provider closed while it
// loads, folders with any name, two different models loading at once in one thread, and a folder
// missing files.
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKokoroSynthesizer } from '../../src/shared/providers/kokoro/kokoro-synthesizer.js';
import { KokoroTtsProvider } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import { toInputIds } from '../../src/shared/providers/kokoro/kokoro-vocab.js';
import { loadKokoro } from '../../src/shared/providers/kokoro/kokoro-model.js';
import { layersForRunMs } from '../support/kokoro/calibrate.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';
import { rejection } from '../support/provider-calls.js';

const REQUEST = { pieces: [toInputIds([50, 51, 52, 53])], voice: 'pf_dora', speed: 1, output: 'wav' as const };
const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

let slow: KokoroFolder;
let fast: KokoroFolder;
beforeAll(async () => {
  slow = await makeKokoroFolder({ layers: await layersForRunMs(600) });
  fast = await makeKokoroFolder({ layers: 1 });
}, 60_000);
afterAll(async () => {
  await slow?.remove();
  await fast?.remove();
});

const modelOf = (folder: KokoroFolder) => ({ model: 'local', modelDir: folder.dir, cacheDir: join(folder.dir, 'cache'), dtype: 'q8' as const, device: 'cpu' as const });

describe('the synthesis pool', () => {
  it('closing while a run is on the thread rejects its caller, lets the run end, and exits cleanly', async () => {
    const pool = createKokoroSynthesizer(modelOf(slow), 1);
    await pool.start();
    const running = expect(pool.synthesize(REQUEST)).rejects.toThrow(/closed/);
    const queued = expect(pool.synthesize(REQUEST)).rejects.toThrow(/closed/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pool.close();
    await running;
    await queued;
    await expect(pool.synthesize(REQUEST)).rejects.toThrow(/closed/);
  }, 30_000);

  it('an aborted request that waits in the queue never runs', async () => {
    const pool = createKokoroSynthesizer(modelOf(slow), 1);
    await pool.start();
    try {
      const first = pool.synthesize(REQUEST);
      const controller = new AbortController();
      const second = pool.synthesize(REQUEST, controller.signal);
      controller.abort();
      await expect(second).rejects.toThrow(/aborted/);
      const started = performance.now();
      await first;
      const third = performance.now();
      await pool.synthesize(REQUEST);
      // The third ran right after the first: the aborted one did not take the thread in between.
      expect(performance.now() - third).toBeLessThan((third - started) * 3 + 2000);
    } finally {
      await pool.close();
    }
  }, 30_000);

  it('an utterance aborted on its thread stops after the piece in progress', async () => {
    const pool = createKokoroSynthesizer(modelOf(slow), 1);
    await pool.start();
    try {
      let started = performance.now();
      await pool.synthesize(REQUEST);
      const oneRunMs = performance.now() - started;
      const controller = new AbortController();
      const piece = REQUEST.pieces[0] ?? [];
      const long = pool.synthesize({ ...REQUEST, pieces: Array.from({ length: 8 }, () => piece) }, controller.signal);
      controller.abort();
      await expect(long).rejects.toThrow(/aborted/);
      started = performance.now();
      await pool.synthesize(REQUEST);
      // At most the piece in progress, then this one: far from the eight pieces asked for.
      expect(performance.now() - started).toBeLessThan(oneRunMs * 4);
    } finally {
      await pool.close();
    }
  }, 30_000);
});

describe('KokoroTtsProvider lifecycle', () => {
  it('a provider closed while loading leaves no thread behind and can load again', async () => {
    const provider = new KokoroTtsProvider({ model: modelOf(fast), device: 'cpu' });
    const loading = provider.load();
    await provider.close();
    await loading.catch(() => undefined);
    await provider.load();
    await expect(provider.synthesize('Oi.', PT_BR)).resolves.toMatchObject({ format: { sampleRateHz: 24_000 } });
    await provider.close();
  }, 30_000);

  it('loads a folder whatever its name (spaces, double dashes)', async () => {
    const odd = join(fast.dir, '..', `${fast.dir.split('/').pop() ?? 'k'} Kokoro--82M v1.0`);
    await cp(fast.dir, odd, { recursive: true });
    const provider = new KokoroTtsProvider({ model: { ...modelOf(fast), modelDir: odd }, device: 'cpu', threads: 0 });
    try {
      await expect(provider.synthesize('Oi.', PT_BR)).resolves.toBeDefined();
    } finally {
      await provider.close();
      await rm(odd, { recursive: true, force: true });
    }
  });

  it('two different models load at once in one thread, each from its own folder', async () => {
    const [a, b] = await Promise.all([loadKokoro(modelOf(fast)), loadKokoro(modelOf(slow))]);
    expect(a).not.toBe(b);
    await Promise.all([a.model.dispose(), b.model.dispose()]);
  }, 30_000);

  it('a folder missing files fails the load without retry, naming them', async () => {
    const partial = `${fast.dir}-partial`;
    await cp(fast.dir, partial, { recursive: true });
    await rm(join(partial, 'tokenizer.json'));
    const provider = new KokoroTtsProvider({ model: { ...modelOf(fast), modelDir: partial }, device: 'cpu' });
    try {
      const error = await rejection(provider.synthesize('Oi.', PT_BR));
      expect(error.kind).toBe('bad_request');
      expect(error.message).toContain('tokenizer.json');
    } finally {
      await provider.close();
      await rm(partial, { recursive: true, force: true });
    }
  });
});
