// The fault suite's own FerretDB (the bundled test database, tests/support/ferretdb), on a fixed
// port and a data folder of its own, so that it can be stopped and started again on both: the
// database outages. startBundledFerretDb always picks a free port and owns its process, so the
// built binary is run here directly, with the launcher's flags; the launcher only builds it when
// the binary is missing or older than its source (.ci/run builds it beforehand).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../src/shared/logger.js';
import { findPackageRoot, startBundledFerretDb } from '../../src/shared/store/bundled-ferretdb.js';

const READY_TIMEOUT_MS = 60_000;
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'];

function sourceDir(): string {
  return join(findPackageRoot(), 'tests', 'support', 'ferretdb');
}

export function ferretDbBinary(): string {
  return join(sourceDir(), 'bin', 'ferretdb-test-server');
}

/** Builds the binary (through the launcher) when it is missing or older than its source; true when it had to. */
export async function ensureFerretDbBuilt(log: Logger): Promise<boolean> {
  const built = await stat(ferretDbBinary()).catch(() => undefined);
  let stale = built === undefined;
  for (const file of SOURCE_FILES) {
    const source = await stat(join(sourceDir(), file)).catch(() => undefined);
    if (built !== undefined && source !== undefined && source.mtimeMs > built.mtimeMs) stale = true;
  }
  if (!stale) return false;
  log.info('building the bundled ferretdb');
  const db = await startBundledFerretDb({ log });
  await db.stop();
  return true;
}

export class OwnFerretDb {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  private readonly logFile: WriteStream;

  constructor(
    readonly port: number,
    private readonly dataDir: string,
    logDir: string,
  ) {
    this.logFile = createWriteStream(join(logDir, 'ferretdb.log'), { flags: 'a' });
  }

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}/`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it on its port and data folder (what an earlier run wrote is kept) and resolves once it is ready. */
  async start(): Promise<void> {
    if (this.running) throw new Error('ferretdb is already running');
    // stdin stays open for the child's life: it stops at EOF, i.e. when this process dies.
    const child = spawn(ferretDbBinary(), ['-listen', `127.0.0.1:${this.port}`, '-dir', this.dataDir, '-exit-with-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdin.on('error', () => undefined);
    createInterface({ input: child.stderr }).on('line', (line) => this.logFile.write(`${line}\n`));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ferretdb on port ${this.port} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`ferretdb exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
  }

  /** SIGTERM (FerretDB closes its SQLite files and exits) or SIGKILL; resolves once it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(forced);
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    await new Promise<void>((resolve) => this.logFile.end(resolve));
  }
}
