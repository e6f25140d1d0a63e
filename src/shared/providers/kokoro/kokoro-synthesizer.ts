// Where Kokoro inference runs: a pool of synthesis threads (the default), or inline on the
// calling thread (threads = 0: blocks the event loop for the whole run — kept to measure that).
import { Worker } from 'node:worker_threads';
import type { KokoroTTS } from 'kokoro-js';
import { loadKokoro, type KokoroModelOptions, type LoadProgress } from './kokoro-model.js';
import { runKokoro, type KokoroRequest } from './kokoro-run.js';
import type { FromThread, SynthesisThreadData, ToThread } from './synthesis-messages.js';

export interface KokoroSynthesizer {
  /** Loads the model (downloading it first if needed); rejects with why it could not. */
  start(onProgress?: (progress: LoadProgress) => void): Promise<void>;
  synthesize(request: KokoroRequest): Promise<Float32Array>;
  close(): Promise<void>;
}

export function createKokoroSynthesizer(model: KokoroModelOptions, threads: number): KokoroSynthesizer {
  return threads > 0 ? new ThreadedSynthesizer(model, threads) : new InlineSynthesizer(model);
}

class InlineSynthesizer implements KokoroSynthesizer {
  private tts: KokoroTTS | undefined;
  constructor(private readonly model: KokoroModelOptions) {}

  async start(onProgress?: (progress: LoadProgress) => void): Promise<void> {
    this.tts ??= await loadKokoro(this.model, onProgress);
  }

  synthesize(request: KokoroRequest): Promise<Float32Array> {
    if (!this.tts) return Promise.reject(new Error('the Kokoro model is not loaded'));
    return runKokoro(this.tts, request);
  }

  close(): Promise<void> {
    this.tts = undefined;
    return Promise.resolve();
  }
}

interface Pending {
  request: KokoroRequest;
  resolve(samples: Float32Array): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy?: Pending & { requestId: number };
}

/**
 * The thread entry: the built .js next to this file, or, running from source (tests, tsx), the
 * .ts through tsx's loader. An eval'd bootstrap defines a global `__dirname` of "."; kokoro-js
 * would then look for its voice files relative to the working directory, so it goes first.
 */
function spawnThread(data: SynthesisThreadData): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    const entry = new URL('./synthesis-thread.ts', self).href;
    const boot = `delete globalThis.__dirname; delete globalThis.__filename;
      import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(boot, { eval: true, workerData: data });
  }
  return new Worker(new URL('./synthesis-thread.js', self), { workerData: data });
}

class ThreadedSynthesizer implements KokoroSynthesizer {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextRequestId = 1;
  private closed = false;

  constructor(
    private readonly model: KokoroModelOptions,
    private readonly threads: number,
  ) {}

  async start(onProgress?: (progress: LoadProgress) => void): Promise<void> {
    if (this.slots.length > 0) return;
    // The first thread downloads (if needed) and reports progress; the rest load from its cache.
    this.slots.push(await this.startThread(true, onProgress));
    const rest = await Promise.all(Array.from({ length: this.threads - 1 }, () => this.startThread(false)));
    this.slots.push(...rest);
  }

  synthesize(request: KokoroRequest): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the Kokoro synthesizer is closed'));
    if (this.slots.length === 0) return Promise.reject(new Error('the Kokoro model is not loaded'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the Kokoro synthesizer closed'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private startThread(reportProgress: boolean, onProgress?: (progress: LoadProgress) => void): Promise<Slot> {
    const worker = spawnThread({ model: this.model, reportProgress });
    return new Promise((resolve, reject) => {
      // Only our own listeners come off: Worker keeps internal ones that start its message port.
      const detach = (): void => {
        worker.off('error', fail);
        worker.off('exit', onExit);
        worker.off('message', onMessage);
      };
      const fail = (error: Error): void => {
        detach();
        void worker.terminate();
        reject(error);
      };
      const onExit = (code: number): void => fail(new Error(`the Kokoro thread exited with code ${code} while loading`));
      const onMessage = (message: FromThread): void => {
        if (message.type === 'progress') onProgress?.(message.progress);
        else if (message.type === 'load_failed') fail(new Error(message.message));
        else if (message.type === 'ready') {
          detach();
          const slot: Slot = { worker };
          this.watch(slot);
          resolve(slot);
        }
      };
      worker.on('error', fail);
      worker.on('exit', onExit);
      worker.on('message', onMessage);
    });
  }

  /** A running thread: answers settle its request; a crash fails that request and starts a new thread. */
  private watch(slot: Slot): void {
    slot.worker.on('message', (message: FromThread) => {
      const busy = slot.busy;
      if (!busy || (message.type !== 'audio' && message.type !== 'failed') || message.requestId !== busy.requestId) return;
      slot.busy = undefined;
      if (message.type === 'audio') busy.resolve(message.samples);
      else busy.reject(new Error(message.message));
      this.dispatch();
    });
    const lost = (why: string): void => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      slot.busy?.reject(new Error(`the Kokoro thread ${why}`));
      slot.busy = undefined;
      if (this.closed) return;
      this.startThread(false).then(
        (fresh) => {
          if (this.closed) void fresh.worker.terminate();
          else {
            this.slots.push(fresh);
            this.dispatch();
          }
        },
        (error: unknown) => {
          // No thread left to run the queue: fail what waits rather than hang it.
          if (this.slots.length > 0) return;
          for (const pending of this.queue.splice(0)) pending.reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    slot.worker.on('error', (error) => lost(`failed: ${error.message}`));
    slot.worker.on('exit', (code) => lost(`exited with code ${code}`));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      const requestId = this.nextRequestId++;
      slot.busy = { ...next, requestId };
      const message: ToThread = { type: 'synthesize', requestId, request: next.request };
      slot.worker.postMessage(message);
    }
  }
}
