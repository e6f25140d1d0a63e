// Turn documents in memory, with the MongoDB store's semantics: for the offline demo, the
// benchmarks and tests. Every read returns a copy, so callers cannot change what is stored.
import {
  interruptionSchema,
  isFinalStatus,
  turnErrorSchema,
  turnSchema,
  turnTimelineSchema,
  type Interruption,
  type StageName,
  type StageOutputs,
  type StageTiming,
  type Turn,
  type TurnError,
  type TurnTimeline,
} from '../contracts/turn.js';
import { NotFoundError } from '../errors.js';
import type { TurnStore } from '../ports/turn-store.js';
import { DEFAULT_TURN_LIST_LIMIT, normalizeLimit, parseStageRecord } from './stage-record.js';
import { settle } from './settle.js';

/** Deep-freezes a value that is never changed again once written (a recorded stage, the input). */
function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof Date)) {
    for (const child of Object.values(value)) freeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A copy a caller may change without touching the store. The parts that never change once
 * written (input, LLM overrides, error, stage records) are frozen and shared; the rest is
 * copied. Far cheaper than structuredClone on the benchmarks' hot path.
 */
function copyTurn(turn: Turn): Turn {
  const copy: Turn = { ...turn, stages: { ...turn.stages }, createdAt: new Date(turn.createdAt) };
  if (turn.completedAt) copy.completedAt = new Date(turn.completedAt);
  return copy;
}

function isFinal(turn: Turn): boolean {
  return isFinalStatus(turn.status);
}

export class MemoryTurnStore implements TurnStore {
  private readonly turns = new Map<string, Turn>();
  private readonly bySession = new Map<string, string[]>();

  create(turn: Turn): Promise<boolean> {
    return settle(() => {
      const parsed = turnSchema.parse(turn);
      if (this.turns.has(parsed.turnId)) return false;
      this.turns.set(parsed.turnId, { ...parsed, input: freeze(parsed.input), llm: freeze(parsed.llm), stages: { ...parsed.stages } });
      Object.values(parsed.stages).forEach(freeze);
      const ids = this.bySession.get(parsed.sessionId);
      if (ids === undefined) this.bySession.set(parsed.sessionId, [parsed.turnId]);
      else ids.push(parsed.turnId);
      return true;
    });
  }

  get(turnId: string): Promise<Turn | null> {
    const turn = this.turns.get(turnId);
    return Promise.resolve(turn === undefined ? null : copyTurn(turn));
  }

  recordStage<S extends StageName>(turnId: string, stage: S, output: StageOutputs[S], timing: StageTiming): Promise<Turn> {
    return settle(() => {
      const record = parseStageRecord(stage, output, timing);
      const turn = this.turns.get(turnId);
      if (turn === undefined) throw new NotFoundError('turn_not_found', `no turn ${turnId} to record the ${stage} stage on`);
      if (turn.stages[stage] === undefined) turn.stages = { ...turn.stages, [stage]: freeze(record) };
      return copyTurn(turn);
    });
  }

  saveStage<S extends StageName>(turnId: string, stage: S, record: NonNullable<Turn['stages'][S]>): Promise<boolean> {
    return settle(() => {
      const parsed = parseStageRecord(stage, record.output as StageOutputs[S], record.timing);
      const turn = this.turns.get(turnId);
      if (turn === undefined) throw new NotFoundError('turn_not_found', `no turn ${turnId} to record the ${stage} stage on`);
      if (turn.stages[stage] !== undefined) return false;
      turn.stages = { ...turn.stages, [stage]: freeze(parsed) };
      return true;
    });
  }

  markRunning(turnId: string): Promise<void> {
    const turn = this.turns.get(turnId);
    if (turn?.status === 'queued') turn.status = 'running';
    return Promise.resolve();
  }

  complete(turnId: string, at: Date, timeline?: TurnTimeline): Promise<boolean> {
    return settle(() => {
      const parsedTimeline = timeline === undefined ? undefined : turnTimelineSchema.parse(timeline);
      const turn = this.turns.get(turnId);
      if (turn === undefined || isFinal(turn)) return false;
      turn.status = 'completed';
      turn.completedAt = new Date(at);
      if (parsedTimeline) turn.timeline = freeze(parsedTimeline);
      return true;
    });
  }

  interrupt(turnId: string, interruption: Interruption, at: Date, timeline?: TurnTimeline): Promise<boolean> {
    return settle(() => {
      const parsed = interruptionSchema.parse(interruption);
      const parsedTimeline = timeline === undefined ? undefined : turnTimelineSchema.parse(timeline);
      const turn = this.turns.get(turnId);
      if (turn === undefined || isFinal(turn)) return false;
      turn.status = 'interrupted';
      turn.interruption = freeze(parsed);
      turn.completedAt = new Date(at);
      if (parsedTimeline) turn.timeline = freeze(parsedTimeline);
      return true;
    });
  }

  fail(turnId: string, error: TurnError, at: Date): Promise<boolean> {
    const parsed = turnErrorSchema.safeParse(error);
    if (!parsed.success) return Promise.reject(parsed.error);
    const turn = this.turns.get(turnId);
    if (turn === undefined || isFinal(turn)) return Promise.resolve(false);
    turn.status = 'failed';
    turn.error = freeze(parsed.data);
    turn.completedAt = new Date(at);
    return Promise.resolve(true);
  }

  listBySession(sessionId: string, options: { limit?: number } = {}): Promise<Turn[]> {
    return settle(() => {
      const limit = normalizeLimit(options.limit, DEFAULT_TURN_LIST_LIMIT);
      const turns = (this.bySession.get(sessionId) ?? []).flatMap((id) => {
        const turn = this.turns.get(id);
        return turn === undefined ? [] : [turn];
      });
      // Same order as MongoDB's sort { createdAt: -1, _id: -1 }.
      turns.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.turnId < b.turnId ? 1 : a.turnId > b.turnId ? -1 : 0));
      return turns.slice(0, limit).map(copyTurn);
    });
  }
}
