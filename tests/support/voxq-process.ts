// Runs the built `voxq` command (dist/cli.js, what users run after npm ci) as a child process,
// with its stdout/stderr captured and its pino log lines readable as events.
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { inject } from 'vitest';
import { testMongoUrl } from './mongo.js';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

export interface VoxqProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when a pino log line with this `msg` appears on stderr. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/** Where a test's voxq processes keep their state: the test Redis under `prefix`, the test database `dbName`. */
export function voxqStateEnv(prefix: string, dbName: string): Record<string, string> {
  return { REDIS_URL: inject('redisUrl'), MONGO_URL: testMongoUrl(), VOXQ_MONGO_DB: dbName, VOXQ_PREFIX: prefix };
}

export function spawnVoxq(args: string[], env: Record<string, string>): VoxqProcess {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it first)');
  return watchProcess(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Captures a child's stdout and stderr and reads its pino log lines (JSON on stderr) as events. */
export function watchProcess(child: ChildProcessByStdio<null, Readable, Readable>): VoxqProcess {
  let out = '';
  let err = '';
  let partial = '';
  const logs = new EventEmitter();
  const seen: Record<string, unknown>[] = [];
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    err += text;
    partial += text;
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
