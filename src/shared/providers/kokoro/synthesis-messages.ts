// What the main thread and a Kokoro synthesis thread say to each other.
import type { KokoroModelOptions, LoadProgress } from './kokoro-model.js';
import type { KokoroRequest, KokoroSpeech } from './kokoro-run.js';

/** workerData of a synthesis thread. */
export interface SynthesisThreadData {
  model: KokoroModelOptions;
  /** Only the first thread reports download progress (the others load from the cache it filled). */
  reportProgress: boolean;
}

export type ToThread =
  | { type: 'synthesize'; requestId: number; request: KokoroRequest }
  /** The caller gave up: stop before the next piece (the piece in progress cannot be stopped). */
  | { type: 'cancel'; requestId: number };

export type FromThread =
  | { type: 'progress'; progress: LoadProgress }
  | { type: 'ready' }
  | { type: 'load_failed'; message: string }
  /** The audio's buffer is transferred, never copied. */
  | { type: 'audio'; requestId: number; speech: KokoroSpeech }
  | { type: 'failed'; requestId: number; message: string };
