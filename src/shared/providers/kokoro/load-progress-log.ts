// A model download's progress in steps people can read: transformers.js reports every chunk; the
// worker's log and `voxq demo` show each file every 10 %.
import type { Logger } from '../../logger.js';
import type { LoadProgress } from './kokoro-model.js';

export interface ProgressStep {
  file: string;
  /** 0, 10, … 100. */
  percent: number;
  loadedBytes: number;
  totalBytes: number;
}

/** Calls `report` once per file per 10 % step reached. */
export function everyTenPercent(report: (step: ProgressStep) => void): (progress: LoadProgress) => void {
  const lastStep = new Map<string, number>();
  return ({ status, file = '', progress, loaded, total }) => {
    if (status !== 'progress' || !total) return;
    const step = Math.floor((progress ?? 0) / 10);
    if (step <= (lastStep.get(file) ?? -1)) return;
    lastStep.set(file, step);
    report({ file, percent: step * 10, loadedBytes: loaded ?? 0, totalBytes: total });
  };
}

export function logLoadProgress(log: Pick<Logger, 'info'>): (progress: LoadProgress) => void {
  return everyTenPercent(({ file, percent, loadedBytes, totalBytes }) =>
    log.info({ file, percent, loadedMb: mb(loadedBytes), totalMb: mb(totalBytes) }, 'model load progress'),
  );
}

function mb(bytes: number): number {
  return Math.round((bytes / 1_048_576) * 10) / 10;
}
