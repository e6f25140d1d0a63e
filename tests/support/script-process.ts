// Runs a TypeScript script of this repository in its own Node process (node --import tsx), with
// its pino log lines readable as events and its stdout captured: the GPU tests' worker and
// lease-holder processes.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { watchProcess, type VoxqProcess } from './voxq-process.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export function spawnScript(script: string, env: Record<string, string>): VoxqProcess {
  return watchProcess(
    spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Stops a process (SIGTERM) and waits for it; returns its stdout. */
export async function stopScript(p: VoxqProcess): Promise<string> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGTERM');
  await p.exited;
  return p.stdout();
}
