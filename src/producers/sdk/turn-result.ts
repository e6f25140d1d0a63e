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

export function timingOf(turn: Turn): TurnTiming {
  const timing: TurnTiming = { totalMs: (turn.completedAt ?? new Date()).getTime() - turn.createdAt.getTime() };
  for (const stage of ['stt', 'llm', 'tts'] as const) {
    const record = turn.stages[stage];
    if (record) {
      const { queueWaitMs, workMs, attempts } = record.timing;
      timing[stage] = { queueWaitMs, workMs, attempts };
    }
  }
  return timing;
}
