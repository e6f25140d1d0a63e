// The fault suite's worker processes: tests/support/paced-worker.ts (paced fake providers, fault
// injection from a Redis stream, pinned to a simulated GPU), one per slot. A slot's process can be
// SIGKILLed and a fresh one started in its place; each one's log (pino JSON on stderr) goes to a
// file of the run folder, and its error lines are counted.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const WORKER_SCRIPT = 'tests/support/paced-worker.ts';
const READY_MSG = 'paced worker ready';
/** pino's error level. */
const ERROR = 50;
const STOP_GRACE_MS = 20_000;

export interface WorkerPoolOptions {
  slots: number;
  /** The repository root (the script runs from there). */
  root: string;
  logDir: string;
  /** The environment every worker gets (REDIS_URL, MONGO_URL, VOXQ_*, PACED_*). */
  env: NodeJS.ProcessEnv;
  /** Extra environment per slot (its GPU, say). */
  slotEnv(slot: number): NodeJS.ProcessEnv;
  startTimeoutMs: number;
}

interface WorkerChild {
  slot: number;
  generation: number;
  isReady(): boolean;
  process: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<void>;
  ready: Promise<void>;
}

export class WorkerPool {
  private readonly children = new Map<number, WorkerChild>();
  private readonly generations = new Map<number, number>();
  private readonly logs: WriteStream[] = [];
  /** Error lines logged by any worker (level ≥ error), by message. */
  readonly errorLogs = new Map<string, number>();
  /** Workers that exited without being asked, once ready (neither killed by the suite nor stopped). */
  unexpectedExits = 0;
  /** Starts that failed (the process exited or hung before it was ready: a store down at its start). */
  failedStarts = 0;
  private readonly expectedExit = new Set<number>();

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts every slot and waits until all are ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.slots }, (_, slot) => this.spawn(slot)));
  }

  /** Slots whose worker is ready and alive now (none is being started in them). */
  readySlots(): number[] {
    return [...this.children.values()].filter((c) => c.isReady() && c.process.exitCode === null && c.process.signalCode === null).map((c) => c.slot);
  }

  /** The pids of the workers alive now. */
  pids(): number[] {
    return [...this.children.values()].flatMap((c) => (c.process.exitCode === null && c.process.signalCode === null && c.process.pid !== undefined ? [c.process.pid] : []));
  }

  /** SIGKILLs the slot's worker and waits until it is gone; its pid. */
  async kill(slot: number): Promise<number | undefined> {
    const child = this.children.get(slot);
    if (!child) return undefined;
    this.children.delete(slot);
    if (child.process.pid !== undefined) this.expectedExit.add(child.process.pid);
    child.process.kill('SIGKILL');
    await child.exited;
    return child.process.pid;
  }

  /** Starts a fresh worker in the slot and waits until it is ready. */
  async spawn(slot: number): Promise<void> {
    if (this.children.has(slot)) throw new Error(`worker slot ${slot} already has a process`);
    const generation = (this.generations.get(slot) ?? 0) + 1;
    this.generations.set(slot, generation);
    const log = createWriteStream(join(this.options.logDir, `worker-${slot}.${generation}.log`));
    this.logs.push(log);
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
      cwd: this.options.root,
      env: { ...this.options.env, ...this.options.slotEnv(slot) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let isReady = false;
    const exited = once(child, 'exit').then(() => {
      if (isReady && child.pid !== undefined && !this.expectedExit.has(child.pid)) this.unexpectedExits += 1;
    });
    createInterface({ input: child.stdout }).on('line', (line) => log.write(`${line}\n`));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${slot} was not ready within ${this.options.startTimeoutMs} ms (log: worker-${slot}.${generation}.log)`)), this.options.startTimeoutMs);
      createInterface({ input: child.stderr }).on('line', (line) => {
        log.write(`${line}\n`);
        const entry = parseLogLine(line);
        if (entry?.msg === READY_MSG) {
          isReady = true;
          clearTimeout(timer);
          resolve();
        }
        if (entry && typeof entry.level === 'number' && entry.level >= ERROR) {
          const msg = typeof entry.msg === 'string' ? entry.msg : '(no msg)';
          this.errorLogs.set(msg, (this.errorLogs.get(msg) ?? 0) + 1);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`worker ${slot} exited before it was ready (log: worker-${slot}.${generation}.log)`));
      });
    });
    ready.catch(() => undefined);
    this.children.set(slot, { slot, generation, isReady: () => isReady, process: child, exited, ready });
    try {
      await ready;
    } catch (error) {
      this.failedStarts += 1;
      this.children.delete(slot);
      if (child.pid !== undefined) this.expectedExit.add(child.pid);
      child.kill('SIGKILL');
      await exited;
      throw error;
    }
  }

  /**
   * Starts a fresh worker in the slot, trying again every few seconds until `deadline` (a worker
   * started while a store is down exits, as `voxq worker` does; its supervisor starts it again).
   */
  async respawn(slot: number, deadline: number, onRetry?: (error: unknown) => void): Promise<boolean> {
    for (;;) {
      try {
        await this.spawn(slot);
        return true;
      } catch (error) {
        onRetry?.(error);
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  /** SIGTERM to every worker (they hand their active jobs back and release their GPU leases), SIGKILL after a grace period. */
  async stop(): Promise<{ forced: number }> {
    let forced = 0;
    await Promise.all(
      [...this.children.values()].map(async (child) => {
        if (child.process.pid !== undefined) this.expectedExit.add(child.process.pid);
        if (child.process.exitCode !== null || child.process.signalCode !== null) return;
        child.process.kill('SIGTERM');
        const timer = setTimeout(() => {
          forced += 1;
          child.process.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await child.exited;
        clearTimeout(timer);
      }),
    );
    this.children.clear();
    await Promise.all(this.logs.map((log) => new Promise<void>((resolve) => log.end(resolve))));
    return { forced };
  }
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
