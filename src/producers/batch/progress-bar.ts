// The live progress of a batch on stderr: files, audio hours, throughput (× real time), ETA and
// failures. On a terminal one line redrawn in place; otherwise plain lines, at most one a second.
import type { BatchProgress } from './batch-runner.js';

export interface ProgressBarOptions {
  stream?: NodeJS.WriteStream;
  /** Default: whether the stream is a TTY. */
  tty?: boolean;
  now?: () => number;
}

const WIDTH = 24;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: BatchProgress): string {
  const hours = (ms: number) => (ms / 3_600_000).toFixed(2);
  const settled = p.filesDone + p.filesFailed;
  const rate = p.elapsedMs > 0 ? p.audioDoneMs / p.elapsedMs : 0;
  const left = p.audioTotalMs - p.audioDoneMs;
  const eta = rate > 0 ? left / rate : Number.NaN;
  const share = p.filesTotal > 0 ? settled / p.filesTotal : 0;
  const filled = Math.round(share * WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
  return (
    `[${bar}] ${settled}/${p.filesTotal} files · ${hours(p.audioDoneMs)}/${hours(p.audioTotalMs)} h audio · ` +
    `${rate.toFixed(1)}× real time · ETA ${settled >= p.filesTotal ? '0s' : formatDuration(eta)} · ${p.filesFailed} failed`
  );
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private lastAt = 0;
  private drawn = false;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.now = options.now ?? Date.now;
  }

  update(progress: BatchProgress, force = false): void {
    const now = this.now();
    const every = this.tty ? 100 : 1000;
    if (!force && now - this.lastAt < every) return;
    this.lastAt = now;
    const line = progressLine(progress);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line so what follows starts on its own. */
  done(progress: BatchProgress): void {
    this.update(progress, true);
    if (this.tty && this.drawn) this.stream.write('\n');
  }
}
