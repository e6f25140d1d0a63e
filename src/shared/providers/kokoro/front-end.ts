// The worker's side of the Kokoro front-end process (front-end-process.ts): espeak-ng G2P and
// ffmpeg encoding run there, so the worker never forks itself per reply. Started with the model
// (while the worker is still small, so that one fork is cheap), restarted on the next call if it
// dies, and closed with the provider. It never keeps the worker alive when nothing waits on it.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProviderError, type ProviderErrorKind } from '../provider-error.js';
import type { EncodedFormat, FromFrontEnd, ToFrontEnd } from './front-end-messages.js';

const PROVIDER = 'kokoro';
/** A call the process does not answer in this time (espeak-ng and ffmpeg have their own, shorter limits) restarts it. */
const CALL_TIMEOUT_MS = 60_000;
/** How long close() waits for the process to exit once its channel is closed, before killing it. */
const CLOSE_GRACE_MS = 5_000;

export interface FrontEndOptions {
  espeakBinary?: string;
  ffmpeg?: string;
}

type Request = { type: 'phonemize'; text: string; espeakVoice: string } | { type: 'encode'; samples: Float32Array; sampleRateHz: number; format: EncodedFormat };

interface Pending {
  settle(outcome: FromFrontEnd | ProviderError): void;
}

/**
 * The process entry: the built .js next to this file, or, running from source (tests, tsx), the
 * .ts through tsx's loader.
 */
function spawnFrontEnd(): ChildProcess {
  const self = import.meta.url;
  const fromSource = self.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './front-end-process.ts' : './front-end-process.js', self));
  const execArgv = fromSource ? ['--import', pathToFileURL(createRequire(self).resolve('tsx')).href] : [];
  // advanced: samples and encoded bytes cross as typed arrays, not as JSON arrays of numbers.
  return fork(entry, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export class KokoroFrontEnd {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;

  constructor(private readonly options: FrontEndOptions = {}) {}

  /** Starts the process now (the next call would otherwise). */
  start(): void {
    this.processNow();
  }

  /** Kokoro phonemes for `text` (EspeakG2P.phonemize, in the front-end process); its errors keep their kind. */
  async phonemize(espeakVoice: string, text: string, signal?: AbortSignal): Promise<string> {
    const answer = await this.call({ type: 'phonemize', text, espeakVoice }, signal);
    if (answer.type !== 'phonemes') throw this.error('server', `the front-end process answered ${answer.type} to phonemize`);
    return answer.phonemes;
  }

  /** `samples` as Ogg Opus or MP3 (encodeSpeech, in the front-end process). */
  async encode(samples: Float32Array, sampleRateHz: number, format: EncodedFormat, signal?: AbortSignal): Promise<Uint8Array> {
    const answer = await this.call({ type: 'encode', samples, sampleRateHz, format }, signal);
    if (answer.type !== 'encoded') throw this.error('server', `the front-end process answered ${answer.type} to encode`);
    return answer.bytes;
  }

  /**
   * Fails what waits, closes the channel (the process kills its programs and exits) and waits for
   * the exit. A later call starts a new process (a provider may load again after close()).
   */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.failAll(this.error('server', 'the Kokoro front end closed'));
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Rejects at once when `signal` aborts (the process then kills the program it started). */
  private call(request: Request, signal: AbortSignal | undefined): Promise<FromFrontEnd> {
    if (signal?.aborted) return Promise.reject(this.error('aborted', 'synthesis aborted'));
    const child = this.processNow();
    const requestId = this.nextRequestId++;
    const message: ToFrontEnd =
      request.type === 'phonemize'
        ? { ...request, requestId, ...(this.options.espeakBinary ? { espeakBinary: this.options.espeakBinary } : {}) }
        : { ...request, requestId, ...(this.options.ffmpeg ? { ffmpeg: this.options.ffmpeg } : {}) };
    return new Promise<FromFrontEnd>((resolve, reject) => {
      const onAbort = (): void => {
        this.send(child, { type: 'cancel', requestId });
        settle(this.error('aborted', 'synthesis aborted'));
      };
      const timer = setTimeout(() => {
        settle(this.error('timeout', `the Kokoro front-end process gave no answer within ${CALL_TIMEOUT_MS} ms`));
        // Hung: the next call gets a fresh one; the rest of this one's callers learn why.
        if (this.child === child) this.lost(child, 'was restarted after a call went unanswered');
        child.kill('SIGKILL');
      }, CALL_TIMEOUT_MS);
      const settle = (outcome: FromFrontEnd | ProviderError): void => {
        if (!this.pending.delete(requestId)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.holdOpen(child);
        if (outcome instanceof ProviderError) reject(outcome);
        else if (outcome.type === 'failed') reject(new ProviderError(outcome.message, { kind: outcome.kind, provider: PROVIDER }));
        else resolve(outcome);
      };
      this.pending.set(requestId, { settle });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.holdOpen(child);
      this.send(child, message);
    });
  }

  /** The running process, or a new one when there is none (the first call, or the last one died). */
  private processNow(): ChildProcess {
    if (this.child) return this.child;
    const child = spawnFrontEnd();
    this.child = child;
    child.on('message', (message: FromFrontEnd) => this.pending.get(message.requestId)?.settle(message));
    child.on('error', (error) => this.lost(child, `failed: ${error.message}`));
    child.on('exit', (code, signal) => this.lost(child, `exited with ${signal ?? `code ${String(code)}`}`));
    this.holdOpen(child);
    return child;
  }

  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.failAll(this.error('server', `the Kokoro front-end process ${why}`));
  }

  private failAll(error: ProviderError): void {
    for (const pending of [...this.pending.values()]) pending.settle(error);
  }

  private send(child: ChildProcess, message: ToFrontEnd): void {
    if (!child.connected) return; // it died: its 'exit' fails the call
    child.send(message, (error) => {
      if (error && this.child === child) this.lost(child, `could not be reached: ${error.message}`);
    });
  }

  /** Keeps the worker alive only while a call waits on the process. */
  private holdOpen(child: ChildProcess): void {
    if (this.pending.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }

  private error(kind: ProviderErrorKind, text: string): ProviderError {
    return new ProviderError(`kokoro: ${text}`, { kind, provider: PROVIDER });
  }
}
