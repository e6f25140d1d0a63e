// Runs a TypeScript script of this repository in its own Node process (node --import tsx), with
// its pino log lines readable as events and its stdout captured: the GPU tests' worker and
// lease-holder processes.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import type { VoxqProcess } from './voxq-process.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export function spawnScript(script: string, env: Record<string, string>): VoxqProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let partial = '';
  const logs = new EventEmitter();
  const seen: Record<string, unknown>[] = [];
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        seen.push(entry);
        logs.emit('log', entry);
      } catch {
        // not a log line
      }
    }
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => child.kill(signal),
    waitForLog(msg, timeoutMs = 30_000) {
      const found = seen.find((e) => e.msg === msg);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          logs.off('log', listener);
          reject(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr:\n${err.slice(-2000)}`));
        }, timeoutMs);
        const listener = (entry: Record<string, unknown>) => {
          if (entry.msg !== msg) return;
          clearTimeout(timer);
          logs.off('log', listener);
          resolve(entry);
        };
        logs.on('log', listener);
        void exited.then(() => {
          clearTimeout(timer);
          logs.off('log', listener);
          reject(new Error(`process exited before logging "${msg}"; stderr:\n${err.slice(-2000)}`));
        });
      });
    },
  };
}

/** Stops a process (SIGTERM) and waits for it; returns its stdout. */
export async function stopScript(p: VoxqProcess): Promise<string> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGTERM');
  await p.exited;
  return p.stdout();
}
