// Where turn documents live. Every write is idempotent: a stage that runs twice records its
// output once (the first write wins), so a re-delivered job changes nothing.
import type { Interruption, StageName, StageOutputs, StageTiming, Turn, TurnError, TurnTimeline } from '../contracts/turn.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface TurnStore {
  /** Inserts the turn; inserting the same turnId again is a no-op that returns false. */
  create(turn: Turn): Promise<boolean>;
  get(turnId: string): Promise<Turn | null>;
  /** Records a stage's output unless one is already there; returns the turn as stored. */
  recordStage<S extends StageName>(turnId: string, stage: S, output: StageOutputs[S], timing: StageTiming): Promise<Turn>;
  /**
   * Records a stage's output unless one is already there, without reading the turn back (the
   * live path's record, written beside it); true when this write was the first.
   */
  saveStage<S extends StageName>(turnId: string, stage: S, record: NonNullable<Turn['stages'][S]>): Promise<boolean>;
  /** Marks the turn running (first stage started); no-op once it is completed or failed. */
  markRunning(turnId: string): Promise<void>;
  /** Completed once (with its milestones, when known); later calls return false. */
  complete(turnId: string, at: Date, timeline?: TurnTimeline): Promise<boolean>;
  /** Failed once, unless already ended; later calls return false. */
  fail(turnId: string, error: TurnError, at: Date): Promise<boolean>;
  /** Interrupted (cancelled) once, unless already ended, with how far its reply was heard; later calls return false. */
  interrupt(turnId: string, interruption: Interruption, at: Date, timeline?: TurnTimeline): Promise<boolean>;
  /** A session's turns, newest first. */
  listBySession(sessionId: string, options?: { limit?: number }): Promise<Turn[]>;
  /** Removes every turn of the session and their transitions; the removed turns (for their audio). Idempotent. */
  deleteSession(sessionId: string): Promise<Turn[]>;
}

export const TURN_STORE_PORT: PortSpec = { name: 'TurnStore', methods: ['create', 'get', 'recordStage', 'saveStage', 'markRunning', 'complete', 'fail', 'interrupt', 'listBySession', 'deleteSession'] };

/** The seed's isinstance check: every method of TurnStore is there. */
export function isTurnStore(value: unknown): value is TurnStore {
  return conformsTo(value, TURN_STORE_PORT);
}
