// The inventory from the real nvidia-smi: one query for the cards, one for compute processes (and
// on a host with a card in MIG mode, its MIG devices: see mig-parser.ts), cached briefly (nvidia-smi takes tens of milliseconds and wakes the driver).
import { execFile } from 'node:child_process';
import type { GpuCard, GpuInventory } from '../ports/gpu-manager.js';
import { expandMigCards, MIG_LIST_ARGS, MIG_TABLE_ARGS, parseMigList, parseMigTable } from './mig-parser.js';
import { classifyNvidiaSmiMessage, COMPUTE_APPS_ARGS, GPU_QUERY_ARGS, NvidiaSmiError, parseComputeApps, parseGpuQuery } from './nvidia-smi-parser.js';

export interface NvidiaSmiRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type NvidiaSmiRunner = (args: readonly string[]) => Promise<NvidiaSmiRun>;

export const runNvidiaSmi: NvidiaSmiRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('nvidia-smi', [...args], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') {
        reject(new NvidiaSmiError('not_installed', 'nvidia-smi is not installed (no NVIDIA driver here); set VOXQ_GPUS for a simulated inventory'));
        return;
      }
      resolve({ stdout, stderr, exitCode: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
    });
  });

/** Turns one nvidia-smi run into its text, or the clearest error it allows. */
export function checkRun(run: NvidiaSmiRun): string {
  const known = classifyNvidiaSmiMessage(`${run.stdout}\n${run.stderr}`);
  if (known) throw known;
  if (run.exitCode !== 0 && run.stdout.trim() === '') {
    throw new NvidiaSmiError('garbled', `nvidia-smi failed (exit ${run.exitCode}): ${run.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return run.stdout;
}

export class NvidiaSmiInventory {
  private cached: { at: number; value: Promise<GpuInventory> } | undefined;
  private readonly host: string;
  private readonly cacheMs: number;
  private readonly run: NvidiaSmiRunner;

  constructor(options: { host: string; cacheMs?: number; run?: NvidiaSmiRunner }) {
    this.host = options.host;
    this.cacheMs = options.cacheMs ?? 2000;
    this.run = options.run ?? runNvidiaSmi;
  }

  read(): Promise<GpuInventory> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.value;
    const value = this.readNow();
    this.cached = { at: now, value };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  private async readNow(): Promise<GpuInventory> {
    const gpus = parseGpuQuery(checkRun(await this.run(GPU_QUERY_ARGS)));
    const processes = parseComputeApps(checkRun(await this.run(COMPUTE_APPS_ARGS)));
    let cards: GpuCard[] = gpus.cards.map((c) => ({ ...c, host: this.host, simulated: false }));
    const problems = [...gpus.problems];
    // A card in MIG mode is offered as its MIG devices (two more reads, only on such a host).
    if (cards.some((c) => c.migMode === 'enabled')) {
      const listed = parseMigList(checkRun(await this.run(MIG_LIST_ARGS)));
      const table = parseMigTable(checkRun(await this.run(MIG_TABLE_ARGS)));
      const expanded = expandMigCards(cards, listed, table);
      cards = expanded.cards;
      problems.push(...expanded.problems);
      if (cards.length === 0) throw new NvidiaSmiError('no_devices', `no usable GPU: ${problems.join('; ')}`);
    }
    return { host: this.host, simulated: false, cards, processes, problems };
  }
}
