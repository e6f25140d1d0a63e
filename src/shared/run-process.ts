// One child process run to completion: input on stdin (never argv, never a shell), stdout and
// stderr collected, killed on abort or timeout, settled only once the process has exited (no child
// outlives a call). espeak-ng (TTS and G2P) and ffmpeg (speech encoding) run through it.
import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunProcessOptions {
  stdin?: string | Uint8Array;
  signal?: AbortSignal;
  timeoutMs: number;
}

/** Why a run did not give a result: the binary could not start, the caller aborted, or time ran out. */
export class ProcessError extends Error {
  override readonly name = 'ProcessError';
  constructor(
    readonly reason: 'spawn' | 'aborted' | 'timeout',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function runProcess(binary: string, args: readonly string[], { stdin, signal, timeoutMs }: RunProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProcessError('aborted', `${binary}: aborted`));
      return;
    }
    const child = spawn(binary, args, { stdio: 'pipe' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stopped: ProcessError | undefined;
    let spawnFailed = false;
    const stop = (error: ProcessError): void => {
      stopped ??= error;
      child.kill('SIGKILL');
    };
    const onAbort = (): void => stop(new ProcessError('aborted', `${binary}: aborted`));
    const timer = setTimeout(() => stop(new ProcessError('timeout', `${binary} did not finish within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (cause) => {
      spawnFailed = true;
      cleanup();
      reject(new ProcessError('spawn', `${binary} is not available`, { cause }));
    });
    child.on('close', (code) => {
      cleanup();
      if (spawnFailed) return;
      if (stopped) reject(stopped);
      else resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // EPIPE when the child dies first; 'close' reports it
    child.stdin.end(stdin ?? '');
  });
}
