// What the main thread and a Kokoro synthesis thread say to each other.
import type { KokoroModelOptions, LoadProgress } from './kokoro-model.js';
import type { KokoroRequest } from './kokoro-run.js';

/** workerData of a synthesis thread. */
export interface SynthesisThreadData {
  model: KokoroModelOptions;
  /** Only the first thread reports download progress (the others load from the cache it filled). */
  reportProgress: boolean;
}

export type ToThread = { type: 'synthesize'; requestId: number; request: KokoroRequest };

export type FromThread =
  | { type: 'progress'; progress: LoadProgress }
  | { type: 'ready' }
  | { type: 'load_failed'; message: string }
  | { type: 'audio'; requestId: number; samples: Float32Array }
  | { type: 'failed'; requestId: number; message: string };
