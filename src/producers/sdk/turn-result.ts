// What a finished turn gives back to the caller.
import type { Turn, StageName } from '../../shared/contracts/turn.js';
import type { AudioFormat } from '../../shared/ports/audio.js';
import { VoxqError } from '../../shared/errors.js';

export interface StageTimingSummary {
  queueWaitMs: number;
  workMs: number;
  attempts: number;
}

export interface TurnTiming {
  stt?: StageTimingSummary;
  llm?: StageTimingSummary;
  tts?: StageTimingSummary;
  /** Enqueue → completed. */
  totalMs: number;
  /** Enqueue → each milestone: transcript, first token, first sentence, first and last audio. */
  transcriptMs?: number;
  firstTokenMs?: number;
  firstSentenceMs?: number;
  firstAudioMs?: number;
  lastAudioMs?: number;
}

export interface TurnResult {
  turnId: string;
  sessionId: string;
  /** What the user said (undefined for a text turn). */
  transcription: string | undefined;
  replyText: string;
  replyAudio: { bytes: Uint8Array; format: AudioFormat; durationMs: number };
  timing: TurnTiming;
}

/** A turn that ended in failure; `code` and `stage` say where and why. */
export class TurnFailedError extends VoxqError {
  override readonly name = 'TurnFailedError';
  constructor(
    readonly turnId: string,
    readonly stage: StageName | 'enqueue',
    code: string,
    message: string,
  ) {
    super(code, `turn ${turnId} failed at ${stage}: ${message}`);
  }
}

/** A turn that was cancelled (barge-in) before it finished; `heardText` is the reply as far as it was heard. */
export class TurnInterruptedError extends VoxqError {
  override readonly name = 'TurnInterruptedError';
  constructor(
    readonly turnId: string,
    readonly heardText: string,
    readonly playedMs: number | undefined,
  ) {
    super('interrupted', `turn ${turnId} was interrupted (cancelled) before it finished`);
  }
}

export function timingOf(turn: Turn): TurnTiming {
  const timing: TurnTiming = { totalMs: (turn.completedAt ?? new Date()).getTime() - turn.createdAt.getTime(), ...turn.timeline };
  for (const stage of ['stt', 'llm', 'tts'] as const) {
    const record = turn.stages[stage];
    if (record) {
      const { queueWaitMs, workMs, attempts } = record.timing;
      timing[stage] = { queueWaitMs, workMs, attempts };
    }
  }
  return timing;
}
