// A model download's progress as log lines: one when a file starts, one per 10 % of each file,
// one when it is done. transformers.js reports every chunk; a worker's log needs far fewer.
import type { Logger } from '../../logger.js';
import type { LoadProgress } from './kokoro-model.js';

export function logLoadProgress(log: Pick<Logger, 'info'>): (progress: LoadProgress) => void {
  const lastStep = new Map<string, number>();
  return (progress) => {
    const file = progress.file ?? '';
    if (progress.status === 'initiate') log.info({ file }, 'model file loading');
    else if (progress.status === 'done') log.info({ file }, 'model file loaded');
    else if (progress.status === 'progress' && progress.total) {
      const step = Math.floor((progress.progress ?? 0) / 10);
      if (step <= (lastStep.get(file) ?? -1)) return;
      lastStep.set(file, step);
      log.info({ file, percent: step * 10, loadedMb: mb(progress.loaded), totalMb: mb(progress.total) }, 'model download progress');
    }
  };
}

function mb(bytes: number | undefined): number {
  return Math.round(((bytes ?? 0) / 1_048_576) * 10) / 10;
}
