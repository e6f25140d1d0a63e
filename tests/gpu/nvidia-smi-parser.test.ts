// The nvidia-smi inventory parser over recorded and constructed output (tests/fixtures/nvidia-smi,
// whose README names each file's source): every card shape and every failure shape.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NvidiaSmiInventory } from '../../src/shared/gpu/nvidia-smi-inventory.js';
import { NvidiaSmiError, parseComputeApps, parseGpuQuery, type NvidiaSmiFailure } from '../../src/shared/gpu/nvidia-smi-parser.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'nvidia-smi');
const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');

function failureOf(run: () => unknown): { failure: NvidiaSmiFailure; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof NvidiaSmiError) return { failure: error.failure, message: error.message };
    throw error;
  }
}

describe('nvidia-smi --query-gpu parser', () => {
  it.each([
    { file: 'recorded-nvidia-h100-80gb-hbm3.query-gpu.csv', cards: 1, first: { index: 0, name: 'NVIDIA H100 80GB HBM3', totalMb: 81559, usedMb: 0, utilizationPct: 0, migMode: 'disabled' }, problems: 0 },
    { file: 'one-gpu.query-gpu.csv', cards: 1, first: { index: 0, name: 'NVIDIA L4', totalMb: 23034, usedMb: 1204, utilizationPct: 37, migMode: null }, problems: 0 },
    { file: 'eight-gpus.query-gpu.csv', cards: 8, first: { index: 0, name: 'NVIDIA A100-SXM4-80GB', totalMb: 81920, usedMb: 4, migMode: 'disabled' }, problems: 0 },
    { file: 'mig.query-gpu.csv', cards: 2, first: { index: 0, totalMb: 40960, utilizationPct: null, migMode: 'enabled' }, problems: 0 },
    { file: 'fallen-off-bus.query-gpu.csv', cards: 2, first: { index: 0, name: 'Tesla V100-SXM2-32GB' }, problems: 1 },
    { file: 'lost-fields.query-gpu.csv', cards: 1, first: { index: 0, totalMb: 24576 }, problems: 1 },
    { file: 'na-fields.query-gpu.csv', cards: 1, first: { index: 0, totalMb: 4096, usedMb: null, utilizationPct: null, migMode: null }, problems: 1 },
  ])('$file → $cards card(s), $problems problem(s)', ({ file, cards, first, problems }) => {
    const parsed = parseGpuQuery(fixture(file));
    expect(parsed.cards).toHaveLength(cards);
    expect(parsed.cards[0]).toMatchObject(first);
    expect(parsed.problems).toHaveLength(problems);
    for (const card of parsed.cards) expect(card.uuid).toMatch(/^GPU-[0-9a-f-]{36}$/);
    expect(new Set(parsed.cards.map((c) => c.uuid)).size).toBe(cards);
  });

  it('keeps the indexes of the cards that survive a GPU falling off the bus, and says which fell', () => {
    const parsed = parseGpuQuery(fixture('fallen-off-bus.query-gpu.csv'));
    expect(parsed.cards.map((c) => c.index)).toEqual([0, 2]);
    expect(parsed.problems[0]).toMatch(/fallen off the bus or lost.*0000:3B:00\.0/);
  });

  it.each([
    { file: 'no-driver.txt', failure: 'no_driver', message: /cannot reach the NVIDIA driver/ },
    { file: 'no-devices.txt', failure: 'no_devices', message: /found no NVIDIA GPU/ },
    { file: 'all-lost.query-gpu.csv', failure: 'gpu_lost', message: /no usable GPU.*GPU is lost/ },
    { file: 'garbled.query-gpu.csv', failure: 'garbled', message: /expected 7 CSV fields/ },
    { file: 'garbled-number.query-gpu.csv', failure: 'garbled', message: /unexpected nvidia-smi output: 0, GPU-/ },
  ])('$file → $failure', ({ file, failure, message }) => {
    const got = failureOf(() => parseGpuQuery(fixture(file)));
    expect(got?.failure).toBe(failure);
    expect(got?.message).toMatch(message);
  });

  it('treats empty output and HTML junk as no devices and garbled', () => {
    expect(failureOf(() => parseGpuQuery(''))?.failure).toBe('no_devices');
    expect(failureOf(() => parseGpuQuery('<html>502 Bad Gateway</html>'))?.failure).toBe('garbled');
  });

  it('parses every fixture in the folder without throwing anything but an NvidiaSmiError', () => {
    for (const file of readdirSync(DIR).filter((f) => f.includes('query-gpu') || f.endsWith('.txt'))) {
      expect(() => failureOf(() => parseGpuQuery(fixture(file)))).not.toThrow();
    }
  });
});

describe('nvidia-smi --query-compute-apps parser', () => {
  it.each([
    { file: 'recorded-nvidia-h100-80gb-hbm3.compute-apps.csv', count: 0, first: undefined },
    { file: 'recorded-nvidia-h100-80gb-hbm3-foreign.compute-apps.csv', count: 1, first: { gpuUuid: 'GPU-3b01f420-85c2-fd58-83ab-4ca69dfdff3c', pid: 455, usedMb: 2566 } },
    { file: 'eight-gpus.compute-apps.csv', count: 5, first: { pid: 48211, usedMb: 61230 } },
    { file: 'mig.compute-apps.csv', count: 2, first: { pid: 7711, usedMb: null } },
    { file: 'no-processes.compute-apps.csv', count: 0, first: undefined },
  ])('$file → $count process(es)', ({ file, count, first }) => {
    const processes = parseComputeApps(fixture(file));
    expect(processes).toHaveLength(count);
    if (first) expect(processes[0]).toMatchObject(first);
  });

  it('names garbled process lines and the driver failing', () => {
    expect(failureOf(() => parseComputeApps('GPU-x, notapid, 12'))?.failure).toBe('garbled');
    expect(failureOf(() => parseComputeApps(fixture('no-driver.txt')))?.failure).toBe('no_driver');
  });
});

describe('NvidiaSmiInventory', () => {
  it('runs both queries, caches briefly, and reports a failed run by its message', async () => {
    let runs = 0;
    const inventory = new NvidiaSmiInventory({
      host: 'gpu-host',
      cacheMs: 60_000,
      run: (args) => {
        runs += 1;
        const query = args[0]?.startsWith('--query-gpu') ? 'eight-gpus.query-gpu.csv' : 'eight-gpus.compute-apps.csv';
        return Promise.resolve({ stdout: fixture(query), stderr: '', exitCode: 0 });
      },
    });
    const first = await inventory.read();
    await inventory.read();
    expect(runs).toBe(2);
    expect(first).toMatchObject({ host: 'gpu-host', simulated: false });
    expect(first.cards).toHaveLength(8);
    expect(first.cards.every((c) => c.host === 'gpu-host' && !c.simulated)).toBe(true);
    expect(first.processes).toHaveLength(5);

    const broken = new NvidiaSmiInventory({ host: 'h', run: () => Promise.resolve({ stdout: fixture('no-driver.txt'), stderr: '', exitCode: 9 }) });
    await expect(broken.read()).rejects.toMatchObject({ failure: 'no_driver' });
    const failing = new NvidiaSmiInventory({ host: 'h', run: () => Promise.resolve({ stdout: '', stderr: 'Segmentation fault', exitCode: 139 }) });
    await expect(failing.read()).rejects.toThrow(/exit 139.*Segmentation fault/);
  });
});
