// The SDK's form of batch transcription: a run that emits `discovered`, `file` and `progress`
// events and resolves `done` with the summary. Listeners attached right after the call see
// everything (the run starts on the next tick).
import { checkPart } from '../../shared/injected-parts.js';
import { AUDIO_STORE_PORT } from '../../shared/ports/audio-store.js';
import { BATCH_RECORD_STORE_PORT } from '../../shared/ports/batch-record-store.js';
import { BatchRunner, type BatchRunnerDeps, type BatchSummary, type TranscribeFolderOptions } from './batch-runner.js';

export interface TranscribeFolderRun extends BatchRunner {
  done: Promise<BatchSummary>;
}

/** Transcribes every audio file of a folder tree through the stt workers; `done` resolves with the summary. */
export function startTranscribeFolder(deps: BatchRunnerDeps, options: TranscribeFolderOptions): TranscribeFolderRun {
  // Injected stores are refused here, naming what they lack, before the run starts.
  checkPart('records', deps.records, BATCH_RECORD_STORE_PORT);
  checkPart('audio', deps.audio, AUDIO_STORE_PORT);
  const runner = new BatchRunner(deps);
  const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => runner.run(options));
  return Object.assign(runner, { done });
}
