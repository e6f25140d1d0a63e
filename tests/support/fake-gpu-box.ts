// A simulated GPU box for tests that run voxq processes as the containers of one machine: a
// folder the fake nvidia-smi (tests/support/fake-nvidia-smi) reads, and the environment that
// puts that fake first on a process's PATH. Each "container" says what it uses on a card by
// writing used/<uuid>/<pid>; the fake counts it while the process lives, like the driver.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { NvidiaSmiRunner } from '../../src/shared/gpu/nvidia-smi-inventory.js';
import { REPO_ROOT } from './script-process.js';

export const FAKE_NVIDIA_SMI_DIR = join(REPO_ROOT, 'tests', 'support', 'fake-nvidia-smi');

export interface FakeBoxCard {
  index: number;
  uuid: string;
  name: string;
  totalMb: number;
  /** A stranger's memory on the card (not voxq's). */
  foreignMb: number;
}

/** What a process (pid) uses on a card of the box in `dir` (a container process has only the folder). */
export function useOnBox(dir: string, uuid: string, pid: number, mb: number): void {
  mkdirSync(join(dir, 'used', uuid), { recursive: true });
  writeFileSync(join(dir, 'used', uuid, String(pid)), String(mb));
}

export class FakeGpuBox {
  readonly dir = mkdtempSync(join(tmpdir(), 'voxq-gpu-box-'));

  constructor(cards: readonly FakeBoxCard[] = []) {
    writeFileSync(join(this.dir, 'cards.csv'), cards.map((c) => `${c.index}, ${c.uuid}, ${c.name}, ${c.totalMb}, ${c.foreignMb}\n`).join(''));
  }

  /** Serves a fixture as it is (e.g. `list.txt` for `nvidia-smi -L`). */
  serve(name: 'query-gpu.csv' | 'compute-apps.csv' | 'list.txt' | 'table.txt', fixture: string): void {
    copyFileSync(join(REPO_ROOT, 'tests', 'fixtures', 'nvidia-smi', fixture), join(this.dir, name));
  }

  /** What a process (pid) uses on a card, as the driver would count it. */
  use(uuid: string, pid: number, mb: number): void {
    useOnBox(this.dir, uuid, pid, mb);
  }

  /** Environment of a process on this box: the fake nvidia-smi first on PATH. */
  env(): Record<string, string> {
    return { FAKE_NVIDIA_SMI_BOX: this.dir, PATH: `${FAKE_NVIDIA_SMI_DIR}${delimiter}${process.env.PATH ?? ''}` };
  }

  /** Runs the fake nvidia-smi (for an NvidiaSmiInventory in the test's own process). */
  readonly run: NvidiaSmiRunner = (args) =>
    new Promise((resolve) => {
      execFile(join(FAKE_NVIDIA_SMI_DIR, 'nvidia-smi'), [...args], { env: { ...process.env, ...this.env() } }, (error, stdout, stderr) => {
        resolve({ stdout, stderr, exitCode: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
      });
    });

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
