// A TypeScript script of this repository in a Node process of its own (node --import tsx), for
// benchmarks that run several processes at once: its stdout read as lines, its pino log lines
// (stderr) watched for a message, its warnings and errors passed on to this stderr, and a stop
// that sends SIGTERM and, after a grace period, SIGKILL.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

const TAIL_CHARS = 4000;
/** pino's warn level. */
const WARN = 40;

export interface ChildScriptOptions {
  /** Shown in errors and in front of the lines passed on. */
  name: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export class ChildScript {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly logListeners = new Set<(entry: Record<string, unknown>) => void>();
  private readonly lineListeners = new Set<(line: string) => void>();
  private readonly seenLogs = new Set<string>();
  private stderrTail = '';
  private stopping: Promise<number | string> | undefined;
  readonly exited: Promise<number | string>;

  constructor(
    script: string,
    private readonly options: ChildScriptOptions,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
    // A child that dies early must not take this process down with an EPIPE.
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      for (const listener of this.lineListeners) listener(line);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.onStderr(line));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Every line the script prints on stdout from now on. */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.add(listener);
  }

  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Resolves when a pino log line with this `msg` appears (or has appeared) on stderr. */
  waitForLog(msg: string, timeoutMs: number): Promise<void> {
    if (this.seenLogs.has(msg)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.logListeners.delete(listener);
        if (error) reject(error);
        else resolve();
      };
      const listener = (entry: Record<string, unknown>) => {
        if (entry.msg === msg) done();
      };
      const timer = setTimeout(() => done(new Error(`${this.options.name}: no "${msg}" within ${timeoutMs} ms; stderr:\n${this.stderrTail}`)), timeoutMs);
      this.logListeners.add(listener);
      void this.exited.then((code) => done(new Error(`${this.options.name} exited (${code}) before "${msg}"; stderr:\n${this.stderrTail}`)));
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. Idempotent. */
  stop(graceMs = 5000): Promise<number | string> {
    this.stopping ??= (async () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
      this.child.stdin.end();
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.stopping;
  }

  private onStderr(line: string): void {
    this.stderrTail = `${this.stderrTail}${line}\n`.slice(-TAIL_CHARS);
    let entry: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) entry = parsed as Record<string, unknown>;
    } catch {
      entry = undefined;
    }
    if (entry === undefined) {
      process.stderr.write(`[${this.options.name}] ${line}\n`);
      return;
    }
    if (typeof entry.msg === 'string') this.seenLogs.add(entry.msg);
    if (typeof entry.level === 'number' && entry.level >= WARN) process.stderr.write(`[${this.options.name}] ${line}\n`);
    for (const listener of this.logListeners) listener(entry);
  }
}
