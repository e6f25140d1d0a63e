// Where Kokoro inference runs: a pool of synthesis threads (the default), or inline on the
// calling thread (threads = 0: blocks the event loop for the whole run — kept to measure that).
// A request is a whole utterance (every piece, joined and encoded where it runs), so the caller's
// event loop sends one small message and gets one transferred buffer back.
import { Worker } from 'node:worker_threads';
import type { KokoroTTS } from 'kokoro-js';
import { loadKokoro, type KokoroModelOptions, type LoadProgress } from './kokoro-model.js';
import { runKokoro, type KokoroRequest, type KokoroSpeech } from './kokoro-run.js';
import type { FromThread, SynthesisThreadData, ToThread } from './synthesis-messages.js';

export interface KokoroSynthesizer {
  /** Loads the model (downloading it first if needed); rejects with why it could not. */
  start(onProgress?: (progress: LoadProgress) => void): Promise<void>;
  /**
   * Rejects at once when `signal` aborts: a request not yet on a thread is dropped from the queue,
   * one on a thread stops after the piece in progress.
   */
  synthesize(request: KokoroRequest, signal?: AbortSignal): Promise<KokoroSpeech>;
  /** False once every thread has died and none could be restarted: load again. */
  healthy(): boolean;
  /** Waits (a bounded time) for runs in progress, then stops the threads. */
  close(): Promise<void>;
}

/** How long close() lets a run in progress finish before terminating its thread. */
const CLOSE_GRACE_MS = 30_000;

export function createKokoroSynthesizer(model: KokoroModelOptions, threads: number): KokoroSynthesizer {
  return threads > 0 ? new ThreadedSynthesizer(model, threads) : new InlineSynthesizer(model);
}

class InlineSynthesizer implements KokoroSynthesizer {
  private tts: KokoroTTS | undefined;
  constructor(private readonly model: KokoroModelOptions) {}

  async start(onProgress?: (progress: LoadProgress) => void): Promise<void> {
    this.tts ??= await loadKokoro(this.model, onProgress);
  }

  synthesize(request: KokoroRequest, signal?: AbortSignal): Promise<KokoroSpeech> {
    if (signal?.aborted) return Promise.reject(new Error('synthesis aborted'));
    if (!this.tts) return Promise.reject(new Error('the Kokoro model is not loaded'));
    return runKokoro(this.tts, request, () => signal?.aborted === true);
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    const tts = this.tts;
    this.tts = undefined;
    await tts?.model.dispose();
  }
}

interface Pending {
  request: KokoroRequest;
  resolve(speech: KokoroSpeech): void;
  reject(error: Error): void;
  /** Settled (answered, failed or aborted): later news is ignored. */
  done?: boolean;
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
  private restarting = 0;
  private broken: Error | undefined;
  private closed = false;

  constructor(
    private readonly model: KokoroModelOptions,
    private readonly threads: number,
  ) {}

  async start(onProgress?: (progress: LoadProgress) => void): Promise<void> {
    if (this.slots.length > 0) return;
    // The first thread downloads (if needed) and reports progress; the rest load from its cache.
    this.adopt(await this.startThread(true, onProgress));
    const rest = await Promise.allSettled(Array.from({ length: this.threads - 1 }, () => this.startThread(false)));
    for (const result of rest) if (result.status === 'fulfilled') this.adopt(result.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    if (this.closed) throw new Error('the Kokoro synthesizer closed while loading');
  }

  healthy(): boolean {
    return !this.broken;
  }

  synthesize(request: KokoroRequest, signal?: AbortSignal): Promise<KokoroSpeech> {
    if (this.closed) return Promise.reject(new Error('the Kokoro synthesizer is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (this.slots.length === 0 && this.restarting === 0) return Promise.reject(new Error('the Kokoro model is not loaded'));
    if (signal?.aborted) return Promise.reject(new Error('synthesis aborted'));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        request,
        resolve: (speech) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(speech);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      // Not on a thread yet: out of the queue. On a thread: it stops before its next piece (the
      // piece in progress cannot be stopped) and its answer is dropped.
      const onAbort = (): void => {
        const index = this.queue.indexOf(pending);
        if (index >= 0) this.queue.splice(index, 1);
        this.cancel(pending);
        settle(pending, new Error('synthesis aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(pending);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.queue.splice(0)) settle(pending, new Error('the Kokoro synthesizer closed'));
    const slots = this.slots.splice(0);
    // onnxruntime aborts the process when its thread is terminated mid-run: let runs finish first
    // (an utterance stops after its piece in progress).
    await Promise.all(
      slots.map(async (slot) => {
        if (slot.busy) {
          post(slot, { type: 'cancel', requestId: slot.busy.requestId });
          settle(slot.busy, new Error('the Kokoro synthesizer closed'));
          await idle(slot.worker, CLOSE_GRACE_MS);
        }
        await slot.worker.terminate();
      }),
    );
  }

  private adopt(slot: Slot): void {
    if (this.closed) {
      void slot.worker.terminate();
      return;
    }
    this.slots.push(slot);
    this.dispatch();
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
      settle(busy, message.type === 'audio' ? message.speech : new Error(message.message));
      this.dispatch();
    });
    const lost = (why: string): void => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return; // closed, or already counted (error then exit)
      this.slots.splice(index, 1);
      if (slot.busy) settle(slot.busy, new Error(`the Kokoro thread ${why}`));
      slot.busy = undefined;
      this.restarting += 1;
      this.startThread(false).then(
        (fresh) => {
          this.restarting -= 1;
          this.adopt(fresh);
        },
        (error: unknown) => {
          this.restarting -= 1;
          if (this.slots.length > 0 || this.restarting > 0 || this.closed) return;
          // No thread left and none coming: fail what waits, and say so until loaded again.
          this.broken = new Error(`every Kokoro thread died and none could restart: ${error instanceof Error ? error.message : String(error)}`);
          for (const pending of this.queue.splice(0)) settle(pending, this.broken);
        },
      );
    };
    slot.worker.on('error', (error) => lost(`failed: ${error.message}`));
    slot.worker.on('exit', (code) => lost(`exited with code ${code}`));
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      const requestId = this.nextRequestId++;
      slot.busy = Object.assign(next, { requestId });
      post(slot, { type: 'synthesize', requestId, request: next.request });
    }
  }

  /** Asks the thread running `pending` (if one is) to stop it before its next piece. */
  private cancel(pending: Pending): void {
    const slot = this.slots.find((s) => s.busy === pending);
    if (slot?.busy) post(slot, { type: 'cancel', requestId: slot.busy.requestId });
  }
}

function post(slot: Slot, message: ToThread): void {
  slot.worker.postMessage(message);
}

function settle(pending: Pending, outcome: KokoroSpeech | Error): void {
  if (pending.done) return;
  pending.done = true;
  if (outcome instanceof Error) pending.reject(outcome);
  else pending.resolve(outcome);
}

/** Resolves when the thread answers its current run or exits, or after `timeoutMs`. */
function idle(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      worker.off('message', done);
      worker.off('exit', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    worker.on('message', done);
    worker.on('exit', done);
  });
}
