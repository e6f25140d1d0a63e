// The fault suite's load: turns enqueued at a steady rate through the SDK, over a pool of
// sessions, audio and text mixed, half of them with a turnId of the caller's (the idempotency
// key), a few cancelled mid-way. Every accepted turn's result() is awaited (again after each
// TimeoutError, as the README tells a caller to) until the suite stops waiting. What the caller
// saw is kept per turn: when enqueueTurn returned, how result() ended and when.
import type { TurnHandle, VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { TurnFailedError, TurnInterruptedError } from '../../src/producers/sdk/turn-result.js';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { newTurnId } from '../../src/shared/contracts/ids.js';
import { TimeoutError, VoxqError } from '../../src/shared/errors.js';

export type TurnOutcome = 'completed' | 'failed' | 'interrupted';

export interface DrivenTurn {
  turnId: string;
  sessionId: string;
  input: 'audio' | 'text';
  /** When enqueueTurn was called and when it returned (epoch ms). */
  enqueuedAt: number;
  acceptedAt: number;
  /** How result() settled, and when (undefined: not yet). */
  outcome?: TurnOutcome;
  endedAt?: number;
  /** TurnFailedError's code. */
  failedCode?: string;
  /** The reply audio's length result() gave (completed turns). */
  replyAudioMs?: number;
  /** result() rejected with something that is none of its documented errors (the first such error). */
  resultError?: string;
  /** result() timed out this many times before it settled (each time it was called again). */
  resultTimeouts: number;
  cancel?: { at: number; cancelled: boolean | 'error'; error?: string };
}

export interface RefusedTurn {
  at: number;
  /** enqueueTurn's error: a VoxqError's code, else the error's name. */
  reason: string;
  /** The caller's turnId when it gave one (such a turn must never run). */
  turnId?: string;
}

export interface TurnDriverOptions {
  client: VoxqClient;
  sessions: readonly string[];
  /** Turns started per second. */
  rate: number;
  /** Share of turns cancelled mid-way (0..1). */
  cancelShare: number;
  /** Enqueue calls in flight at most (they hang while a store is down); a tick over it is skipped. */
  maxPendingEnqueues: number;
  /**
   * Accepted turns not ended at most, as a client pool would hold them: a tick over it is skipped,
   * so a slow database (FerretDB's updates slow down as its collections grow) is not buried under
   * a backlog that only measures the backlog.
   */
  maxInFlight: number;
  random: () => number;
  /** Each result() call waits this long before it is called again. */
  resultTimeoutMs: number;
  onAccepted?: (turn: DrivenTurn) => void;
}

/** A 16 kHz mono 16-bit WAV tone: the fake STT needs audio, not speech. */
function toneWav(durationMs: number, hz: number): Uint8Array {
  const rate = 16_000;
  const samples = new Int16Array(Math.round((rate * durationMs) / 1000));
  for (let i = 0; i < samples.length; i += 1) samples[i] = Math.round(6000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return encodeWavPcm16(samples, rate);
}

const QUESTIONS = ['Que horas são?', 'Vai chover amanhã?', 'Marque uma consulta para sexta.', 'Qual é o saldo da minha conta?', 'Toque uma música calma.'];

export class TurnDriver {
  readonly turns = new Map<string, DrivenTurn>();
  readonly refused: RefusedTurn[] = [];
  skippedTicks = 0;
  private pendingEnqueues = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly waits = new Set<Promise<void>>();
  private readonly enqueues = new Set<Promise<void>>();
  private readonly cancels = new Set<Promise<void>>();
  private stopWaitingAt = Number.POSITIVE_INFINITY;
  private readonly audio = [toneWav(400, 440), toneWav(700, 330), toneWav(1000, 520)];

  constructor(private readonly options: TurnDriverOptions) {}

  get pending(): number {
    return this.pendingEnqueues;
  }

  /** Starts enqueueing at the configured rate. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.options.rate)));
  }

  /** Stops enqueueing (turns already started go on) and waits for the enqueue calls in flight. */
  async stopEnqueueing(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.enqueues]);
  }

  /** result() is not called again after `at`; the waits in flight end by their own timeout. */
  stopWaitingAfter(at: number): void {
    this.stopWaitingAt = at;
  }

  /** Every wait and cancel started so far, settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.waits, ...this.cancels]);
  }

  accepted(): DrivenTurn[] {
    return [...this.turns.values()];
  }

  /** Turns accepted and not ended, as the caller sees them now. */
  inFlight(): DrivenTurn[] {
    return this.accepted().filter((t) => t.outcome === undefined);
  }

  private tick(): void {
    if (this.pendingEnqueues >= this.options.maxPendingEnqueues || this.inFlight().length >= this.options.maxInFlight) {
      this.skippedTicks += 1;
      return;
    }
    const run = this.enqueueOne().finally(() => this.enqueues.delete(run));
    this.enqueues.add(run);
  }

  /** A random session of the pool. */
  pickSession(): string {
    return this.options.sessions[Math.floor(this.options.random() * this.options.sessions.length)] as string;
  }

  /** One more turn now, besides the steady rate, with the caller's id: accepted or refused. */
  async enqueueNow(preset: { turnId: string; sessionId: string }): Promise<DrivenTurn | undefined> {
    const run = this.enqueueOne(preset);
    this.enqueues.add(run);
    await run.finally(() => this.enqueues.delete(run));
    return this.turns.get(preset.turnId);
  }

  private async enqueueOne(preset?: { turnId: string; sessionId: string }): Promise<void> {
    const { client, random } = this.options;
    const sessionId = preset?.sessionId ?? this.pickSession();
    const isAudio = random() < 0.5;
    const turnId = preset?.turnId ?? (random() < 0.5 ? newTurnId() : undefined);
    const request = {
      sessionId,
      ...(isAudio ? { audio: this.audio[Math.floor(random() * this.audio.length)] as Uint8Array } : { text: QUESTIONS[Math.floor(random() * QUESTIONS.length)] as string }),
      ...(turnId ? { turnId } : {}),
    };
    const cancelAfterMs = !preset && random() < this.options.cancelShare ? Math.floor(random() * 250) : undefined;
    const enqueuedAt = Date.now();
    this.pendingEnqueues += 1;
    let handle: TurnHandle;
    try {
      handle = await client.enqueueTurn(request);
    } catch (error) {
      this.refused.push({ at: enqueuedAt, reason: reasonOf(error), ...(turnId ? { turnId } : {}) });
      return;
    } finally {
      this.pendingEnqueues -= 1;
    }
    const turn: DrivenTurn = { turnId: handle.turnId, sessionId, input: isAudio ? 'audio' : 'text', enqueuedAt, acceptedAt: Date.now(), resultTimeouts: 0 };
    this.turns.set(turn.turnId, turn);
    this.options.onAccepted?.(turn);
    const wait = this.await(handle, turn).finally(() => this.waits.delete(wait));
    this.waits.add(wait);
    if (cancelAfterMs !== undefined) {
      const cancel = this.cancelLater(handle, turn, cancelAfterMs).finally(() => this.cancels.delete(cancel));
      this.cancels.add(cancel);
    }
  }

  private async await(handle: TurnHandle, turn: DrivenTurn): Promise<void> {
    while (Date.now() < this.stopWaitingAt) {
      try {
        // The reply audio is not fetched: the checks find it in the audio store by id instead (on
        // FerretDB a GridFS read scans every stored chunk, which would make the load grow with the run).
        const result = await handle.result({ timeoutMs: this.options.resultTimeoutMs, includeAudio: false });
        turn.outcome = 'completed';
        turn.replyAudioMs = result.replyAudio.durationMs;
      } catch (error) {
        if (error instanceof TurnFailedError) {
          turn.outcome = 'failed';
          turn.failedCode = error.code;
        } else if (error instanceof TurnInterruptedError) {
          turn.outcome = 'interrupted';
        } else if (error instanceof TimeoutError) {
          turn.resultTimeouts += 1;
          continue;
        } else {
          // Not one of result()'s documented errors: noted, and the caller asks again (after a pause).
          turn.resultError ??= reasonOf(error);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
      }
      turn.endedAt = Date.now();
      return;
    }
  }

  private async cancelLater(handle: TurnHandle, turn: DrivenTurn, afterMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    const at = Date.now();
    try {
      turn.cancel = { at, cancelled: await handle.cancel() };
    } catch (error) {
      turn.cancel = { at, cancelled: 'error', error: reasonOf(error) };
    }
  }
}

/** A short, stable name for an error: a VoxqError's code, else its name and the start of its message. */
export function reasonOf(error: unknown): string {
  if (error instanceof VoxqError) return error.code;
  if (error instanceof Error) return `${error.name}: ${error.message.slice(0, 80)}`;
  return String(error).slice(0, 80);
}
