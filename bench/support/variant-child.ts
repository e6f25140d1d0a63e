// Runs a benchmark script in a child Node process (through tsx's loader) and returns the JSON
// object on the last line of its stdout. Its stderr (logs) passes through.
import { spawn } from 'node:child_process';

export interface ChildRun {
  figures: Record<string, unknown>;
  exitCode: number;
  wallMs: number;
}

export function runTsChild(script: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const last = stdout.trim().split('\n').pop() ?? '';
      let figures: unknown;
      try {
        figures = JSON.parse(last);
      } catch {
        figures = undefined;
      }
      // Exit 3: figures printed, but something kept the process alive (it logged what).
      if ((code === 0 || code === 3) && typeof figures === 'object' && figures !== null) {
        resolve({ figures: figures as Record<string, unknown>, exitCode: code, wallMs });
      } else {
        reject(new Error(`${script} ${args.join(' ')} ended with ${signal ?? `code ${code}`} and no figures`));
      }
    });
  });
}
