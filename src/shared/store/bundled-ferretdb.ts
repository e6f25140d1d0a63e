// The bundled test database: FerretDB (MongoDB wire protocol, SQLite backend) embedded in the
// tiny Go program in tests/support/ferretdb. Tests and the offline demo start it when MONGO_URL
// is unset. The binary is built with Go on first use, and rebuilt when its source is newer.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { Logger } from '../logger.js';

export interface BundledFerretDbOptions {
  /** SQLite data folder; kept on stop. Default: a fresh temp folder, removed on stop. */
  dataDir?: string;
  log?: Logger;
}

export interface BundledFerretDb {
  /** mongodb://127.0.0.1:<port>/ */
  uri: string;
  /** SIGTERM, SIGKILL after 5 s, then removes the temp data folder. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 4_096;
const BINARY_NAME = 'ferretdb-test-server';
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'];
/** Kept in step with .ci/run: SQLite only, no debug symbols (about 21 MB instead of 37 MB). */
export const FERRETDB_GO_BUILD_ARGS = ['build', '-tags', 'ferretdb_no_postgresql', '-trimpath', '-ldflags=-s -w'];

const GO_MISSING =
  'the bundled test database needs Go (https://go.dev) on PATH to build tests/support/ferretdb, ' +
  'or set MONGO_URL to a MongoDB (or FerretDB) server';

/** One build at a time per binary in this process; other processes are covered by build-then-rename. */
const builds = new Map<string, Promise<void>>();

/** Starts the bundled FerretDB (built with Go on first use) on a free port: a MongoDB for offline runs and tests. */
export async function startBundledFerretDb(options: BundledFerretDbOptions = {}): Promise<BundledFerretDb> {
  const { log } = options;
  const sourceDir = join(findPackageRoot(), 'tests', 'support', 'ferretdb');
  if (!existsSync(join(sourceDir, 'main.go'))) {
    throw new Error(`the bundled test database source is missing (${sourceDir}); set MONGO_URL instead`);
  }
  const binary = join(sourceDir, 'bin', BINARY_NAME);
  await ensureBuilt(sourceDir, binary, log);

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'voxq-ferretdb-')));

  // stdin stays open for the child's life: it stops at EOF, i.e. when this process dies.
  const args = ['-listen', '127.0.0.1:0', '-dir', dataDir, '-exit-with-stdin'];
  if (ownsDataDir) args.push('-remove-dir');
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrTail = new TailBuffer(STDERR_TAIL_BYTES);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const removeDataDirSync = (): void => {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  // The child must not outlive this process: on 'exit' only synchronous work runs.
  const onParentExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    removeDataDirSync();
  };
  process.once('exit', onParentExit);

  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail.push(chunk);
    log?.debug({ output: chunk.toString('utf8').trimEnd() }, 'bundled ferretdb stderr');
  });

  let uri: string;
  try {
    uri = await waitForReady(child, stderrTail);
  } catch (error) {
    process.removeListener('exit', onParentExit);
    await terminate(child, exited);
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  child.on('error', (error) => log?.warn({ err: error }, 'bundled ferretdb process error'));
  // Let this process exit on its own; the 'exit' hook (or stdin EOF) ends the child then.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) unrefStream(stream);
  log?.info({ uri, dataDir, pid: child.pid }, 'bundled ferretdb ready');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await terminate(child, exited);
      process.removeListener('exit', onParentExit);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      log?.info({ dataDir }, 'bundled ferretdb stopped');
    })();
    return stopping;
  };
  return { uri, stop };
}

/** The folder with package.json above this file (src/shared/store or dist/shared/store). */
export function findPackageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

async function ensureBuilt(sourceDir: string, binary: string, log: Logger | undefined): Promise<void> {
  if (!(await isStale(sourceDir, binary))) return;
  let build = builds.get(binary);
  if (build === undefined) {
    build = buildBinary(sourceDir, binary, log).finally(() => builds.delete(binary));
    builds.set(binary, build);
  }
  await build;
}

async function isStale(sourceDir: string, binary: string): Promise<boolean> {
  const built = await stat(binary).catch(() => undefined);
  if (built === undefined) return true;
  for (const file of SOURCE_FILES) {
    const source = await stat(join(sourceDir, file)).catch(() => undefined);
    if (source !== undefined && source.mtimeMs > built.mtimeMs) return true;
  }
  return false;
}

async function buildBinary(sourceDir: string, binary: string, log: Logger | undefined): Promise<void> {
  const go = findGo();
  if (go === undefined) throw new Error(GO_MISSING);
  // Build to a private name, then rename: a concurrent builder or reader never sees half a file.
  const temp = join(dirname(binary), `.${BINARY_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await mkdir(dirname(binary), { recursive: true });
  const startedAt = performance.now();
  log?.info({ sourceDir }, 'building bundled ferretdb');
  const { code, output } = await runCommand(go, [...FERRETDB_GO_BUILD_ARGS, '-o', temp, '.'], sourceDir);
  if (code !== 0) {
    await rm(temp, { force: true });
    throw new Error(`building the bundled test database with Go failed (exit ${code}):\n${output}`);
  }
  await rename(temp, binary);
  log?.info({ durationMs: Math.round(performance.now() - startedAt) }, 'built bundled ferretdb');
}

function findGo(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  dirs.push('/usr/local/go/bin');
  for (const dir of dirs) {
    const candidate = join(dir, 'go');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function runCommand(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new TailBuffer(STDERR_TAIL_BYTES);
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output: tail.text() }));
  });
}

function waitForReady(child: ChildProcess, stderrTail: TailBuffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.removeListener('close', onClose);
      child.removeListener('error', onError);
    };
    const fail = (why: string): void => {
      cleanup();
      const tail = stderrTail.text().trim();
      reject(new Error(`the bundled test database (FerretDB) ${why}${tail === '' ? '' : `; its stderr:\n${tail}`}`));
    };
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      const match = /^READY (\S+)\r?$/m.exec(stdout);
      if (match?.[1] !== undefined) {
        cleanup();
        child.stdout?.resume(); // keep draining; it prints nothing more
        resolve(match[1]);
      }
    };
    // 'close' rather than 'exit': by then all of stderr has been read.
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    const onError = (error: Error): void => fail(`could not start: ${error.message}`);
    const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    child.stdout?.on('data', onData);
    child.once('close', onClose);
    child.once('error', onError);
  });
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  // No pid: it never started, and no 'exit' will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, STOP_GRACE_MS);
  });
  await Promise.race([exited, forced]);
  clearTimeout(timer);
  await exited;
}

function unrefStream(stream: Readable | Writable | null): void {
  (stream as { unref?: () => void } | null)?.unref?.();
}

/** The last `limitBytes` of a byte stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limitBytes && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limitBytes)).toString('utf8');
  }
}
