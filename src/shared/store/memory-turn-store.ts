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

/** What the live path wrote before the producer's insert of the turn (MongoDB keeps these as transitions). */
interface Early {
  stages: Turn['stages'];
  end?: Pick<Turn, 'status' | 'error' | 'interruption' | 'timeline' | 'completedAt'>;
}

export class MemoryTurnStore implements TurnStore {
  private readonly turns = new Map<string, Turn>();
  private readonly bySession = new Map<string, string[]>();
  private readonly early = new Map<string, Early>();

  private earlyOf(turnId: string): Early {
    let early = this.early.get(turnId);
    if (!early) {
      early = { stages: {} };
      this.early.set(turnId, early);
    }
    return early;
  }

  /** Ends the turn, or (not created yet) keeps the end for create(); false when it had ended. */
  private end(turnId: string, end: NonNullable<Early['end']>): boolean {
    const turn = this.turns.get(turnId);
    if (turn === undefined) {
      const early = this.earlyOf(turnId);
      if (early.end) return false;
      early.end = end;
      return true;
    }
    if (isFinal(turn)) return false;
    Object.assign(turn, withoutUndefinedFields(end));
    return true;
  }

  create(turn: Turn): Promise<boolean> {
    return settle(() => {
      const parsed = turnSchema.parse(turn);
      if (this.turns.has(parsed.turnId)) return false;
      const early = this.early.get(parsed.turnId);
      this.early.delete(parsed.turnId);
      const stages = { ...parsed.stages, ...early?.stages };
      const status = early?.end ? {} : parsed.status === 'queued' && Object.keys(early?.stages ?? {}).length > 0 ? { status: 'running' as const } : {};
      this.turns.set(parsed.turnId, { ...parsed, ...status, ...withoutUndefinedFields(early?.end ?? {}), input: freeze(parsed.input), llm: freeze(parsed.llm), stages });
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
      const stages = turn?.stages ?? this.earlyOf(turnId).stages;
      if (stages[stage] !== undefined) return false;
      if (turn) turn.stages = { ...turn.stages, [stage]: freeze(parsed) };
      else stages[stage] = freeze(parsed);
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
      return this.end(turnId, { status: 'completed', completedAt: new Date(at), timeline: parsedTimeline && freeze(parsedTimeline) });
    });
  }

  interrupt(turnId: string, interruption: Interruption, at: Date, timeline?: TurnTimeline): Promise<boolean> {
    return settle(() => {
      const parsed = interruptionSchema.parse(interruption);
      const parsedTimeline = timeline === undefined ? undefined : turnTimelineSchema.parse(timeline);
      return this.end(turnId, { status: 'interrupted', interruption: freeze(parsed), completedAt: new Date(at), timeline: parsedTimeline && freeze(parsedTimeline) });
    });
  }

  fail(turnId: string, error: TurnError, at: Date): Promise<boolean> {
    const parsed = turnErrorSchema.safeParse(error);
    if (!parsed.success) return Promise.reject(parsed.error);
    return Promise.resolve(this.end(turnId, { status: 'failed', error: freeze(parsed.data), completedAt: new Date(at) }));
  }

  deleteSession(sessionId: string): Promise<Turn[]> {
    const ids = this.bySession.get(sessionId) ?? [];
    this.bySession.delete(sessionId);
    const removed = ids.flatMap((id) => {
      const turn = this.turns.get(id);
      this.turns.delete(id);
      this.early.delete(id);
      return turn ? [copyTurn(turn)] : [];
    });
    return Promise.resolve(removed);
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

function withoutUndefinedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
