// The fault suite's own redis-server (never the shared one): append-only file on, fsync every
// second as docker-compose.yml runs it, in a folder of its own, on a fixed port so that it can be
// stopped cleanly (SIGTERM: the AOF is flushed) or killed hard (SIGKILL: up to a second of writes
// may be lost, as in production) and started again where the workers' connections expect it.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const READY_TIMEOUT_MS = 30_000;

export class OwnRedis {
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private readonly logFile: WriteStream;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.logFile = createWriteStream(join(dir, 'redis-server.log'), { flags: 'a' });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it (loading the AOF when there is one) and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      // Hash and stream keyspace events: the waiter-drop fault watches a turn's end as it is written.
      '--notify-keyspace-events', 'Kht',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on port ${this.port} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      const onLine = (line: string) => {
        this.logFile.write(`${line}\n`);
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      createInterface({ input: child.stdout }).on('line', onLine);
      createInterface({ input: child.stderr }).on('line', (line) => this.logFile.write(`${line}\n`));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited before it was ready (code ${code}, signal ${signal}); see ${join(this.dir, 'redis-server.log')}`));
      });
    });
    await ready;
  }

  /** SIGTERM (a clean shutdown: the AOF is written out) or SIGKILL (hard); resolves once it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    await new Promise<void>((resolve) => this.logFile.end(resolve));
  }
}
