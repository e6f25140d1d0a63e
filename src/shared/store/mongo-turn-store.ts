// Turn documents in MongoDB (`turns`, `_id` = turnId) and their transitions (`turn_transitions`).
//
// Why transitions: every write must be first-wins under concurrency, on MongoDB and on FerretDB
// v1. FerretDB v1 runs an update as read, modify, replace the whole document, with no check in
// between: two conditional updates racing on one turn both "match", and an update of one field
// can undo a concurrent update of another (measured: two stages recorded at once lost one, and
// complete/fail/complete racing all returned true). Only inserts on a unique `_id` are atomic
// on both servers. So each transition is an insert with a deterministic `_id`:
//   `<turnId>.stage.<stage>` (first output wins), `<turnId>.running`, `<turnId>.end` (completed
//   or failed: whichever inserts first wins, so a completed turn never fails and vice versa).
// Reads fold the transitions over the turn document. After a winning insert the store also
// copies the change onto the turn document with a conditional `$set`, so that people querying
// `turns` see its state; on MongoDB that copy is exact, on FerretDB it may lag under
// concurrency, which reads do not depend on.
import { randomUUID } from 'node:crypto';
import type { Collection, Db, UpdateFilter } from 'mongodb';
import {
  interruptionSchema,
  STAGES,
  turnErrorSchema,
  turnTimelineSchema,
  type FinalStatus,
  type Interruption,
  type TurnTimeline,
  turnSchema,
  type StageName,
  type StageOutputs,
  type StageTiming,
  type Turn,
  type TurnError,
} from '../contracts/turn.js';
import { NotFoundError } from '../errors.js';
import type { TurnStore } from '../ports/turn-store.js';
import { insertOnce, withoutUndefined } from './mongo-support.js';
import { DEFAULT_TURN_LIST_LIMIT, normalizeLimit, parseStageRecord } from './stage-record.js';

export const TURNS_COLLECTION = 'turns';
export const TURN_TRANSITIONS_COLLECTION = 'turn_transitions';

export type TurnDocument = Omit<Turn, 'turnId'> & { _id: string };

type StageRecord = NonNullable<Turn['stages'][StageName]>;

/** `w`: a random id per write, so that a retry of this write (same `w`) is told from another writer's (see insertOnce). */
export type TurnTransitionDocument = { w?: string } & (
  | { _id: string; turnId: string; kind: 'stage'; stage: StageName; record: StageRecord; at: Date }
  | { _id: string; turnId: string; kind: 'running'; at: Date }
  | { _id: string; turnId: string; kind: 'end'; status: FinalStatus; error?: TurnError; interruption?: Interruption; timeline?: TurnTimeline; at: Date }
);

/** Every transition a turn can have, by `_id`. */
export function transitionIds(turnId: string): string[] {
  return [...STAGES.map((stage) => `${turnId}.stage.${stage}`), `${turnId}.running`, `${turnId}.end`];
}

export function turnToDocument(turn: Turn): TurnDocument {
  const { turnId, ...rest } = turnSchema.parse(turn);
  return withoutUndefined({ _id: turnId, ...rest });
}

/** The turn as its transitions left it: stage outputs, then running, then the end. */
export function foldTurn(doc: TurnDocument, transitions: readonly TurnTransitionDocument[]): Turn {
  const { _id, ...rest } = doc;
  const turn: Record<string, unknown> & { stages: Record<string, unknown> } = { ...rest, turnId: _id, stages: { ...rest.stages } };
  let running = false;
  let end: Extract<TurnTransitionDocument, { kind: 'end' }> | undefined;
  for (const transition of transitions) {
    if (transition.kind === 'stage') turn.stages[transition.stage] = transition.record;
    else if (transition.kind === 'running') running = true;
    else end = transition;
  }
  if (end !== undefined) {
    turn.status = end.status;
    turn.completedAt = end.at;
    if (end.error === undefined) delete turn.error;
    else turn.error = end.error;
    if (end.interruption !== undefined) turn.interruption = end.interruption;
    if (end.timeline !== undefined) turn.timeline = end.timeline;
  } else if (running && turn.status === 'queued') {
    turn.status = 'running';
  }
  return turnSchema.parse(turn);
}

/** The TurnStore on MongoDB (or FerretDB): turn documents plus their transitions, every write idempotent. */
export class MongoTurnStore implements TurnStore {
  private readonly turns: Collection<TurnDocument>;
  private readonly transitions: Collection<TurnTransitionDocument>;

  constructor(db: Db) {
    this.turns = db.collection<TurnDocument>(TURNS_COLLECTION);
    this.transitions = db.collection<TurnTransitionDocument>(TURN_TRANSITIONS_COLLECTION);
  }

  async create(turn: Turn): Promise<boolean> {
    return insertOnce(this.turns, turnToDocument(turn));
  }

  async get(turnId: string): Promise<Turn | null> {
    // One point lookup per possible transition, each by `_id` alone: the only filter FerretDB
    // v1's SQLite backend answers from its key (anything else, `$in` included, scans the
    // collection: 40 ms instead of 16 ms per get with 200 turns stored). On MongoDB these are
    // six cheap primary-key reads in parallel.
    const [doc, ...transitions] = await Promise.all([
      this.turns.findOne({ _id: turnId }),
      ...transitionIds(turnId).map((_id) => this.transitions.findOne({ _id })),
    ]);
    if (doc === null) return null;
    return foldTurn(doc, transitions.filter((t): t is TurnTransitionDocument => t !== null));
  }

  async recordStage<S extends StageName>(
    turnId: string,
    stage: S,
    output: StageOutputs[S],
    timing: StageTiming,
  ): Promise<Turn> {
    const record = withoutUndefined(parseStageRecord(stage, output, timing)) as StageRecord;
    const _id = `${turnId}.stage.${stage}`;
    const won = await this.insertTransition({ _id, turnId, kind: 'stage', stage, record, at: new Date() });
    const stored = await this.get(turnId);
    if (stored === null) {
      if (won) await this.transitions.deleteOne({ _id });
      throw new NotFoundError('turn_not_found', `no turn ${turnId} to record the ${stage} stage on`);
    }
    if (won) {
      const path = `stages.${stage}`;
      await this.project(turnId, { $set: { [path]: record } });
    }
    return stored;
  }

  async saveStage<S extends StageName>(turnId: string, stage: S, stageRecord: NonNullable<Turn['stages'][S]>): Promise<boolean> {
    const record = withoutUndefined(parseStageRecord(stage, stageRecord.output as StageOutputs[S], stageRecord.timing)) as StageRecord;
    const won = await this.insertTransition({ _id: `${turnId}.stage.${stage}`, turnId, kind: 'stage', stage, record, at: new Date() });
    if (won) {
      const path = `stages.${stage}`;
      await this.project(turnId, { $set: { [path]: record } });
    }
    return won;
  }

  // Transitions do not wait for the turn document: the live path may run a stage before the
  // producer's insert of the record lands (both are written side by side); reads fold them once it has.
  async markRunning(turnId: string): Promise<void> {
    // Not copied onto the document: only a filter on more than the id could keep a late copy from
    // overwriting the end, and reads fold this transition anyway.
    await this.insertTransition({ _id: `${turnId}.running`, turnId, kind: 'running', at: new Date() });
  }

  async complete(turnId: string, at: Date, timeline?: TurnTimeline): Promise<boolean> {
    return this.end(turnId, { status: 'completed', at, timeline: timeline && turnTimelineSchema.parse(timeline) });
  }

  async interrupt(turnId: string, interruption: Interruption, at: Date, timeline?: TurnTimeline): Promise<boolean> {
    return this.end(turnId, {
      status: 'interrupted',
      interruption: interruptionSchema.parse(interruption),
      at,
      timeline: timeline && turnTimelineSchema.parse(timeline),
    });
  }

  async fail(turnId: string, error: TurnError, at: Date): Promise<boolean> {
    return this.end(turnId, { status: 'failed', error: withoutUndefined(turnErrorSchema.parse(error)), at });
  }

  async listBySession(sessionId: string, options: { limit?: number } = {}): Promise<Turn[]> {
    const limit = normalizeLimit(options.limit, DEFAULT_TURN_LIST_LIMIT);
    if (limit === 0) return [];
    const docs = await this.turns.find({ sessionId }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    if (docs.length === 0) return [];
    const transitions = await this.transitions.find({ turnId: { $in: docs.map((doc) => doc._id) } }).toArray();
    const byTurn = new Map<string, TurnTransitionDocument[]>();
    for (const transition of transitions) {
      const list = byTurn.get(transition.turnId);
      if (list === undefined) byTurn.set(transition.turnId, [transition]);
      else list.push(transition);
    }
    return docs.map((doc) => foldTurn(doc, byTurn.get(doc._id) ?? []));
  }

  async deleteSession(sessionId: string): Promise<Turn[]> {
    const docs = await this.turns.find({ sessionId }).toArray();
    if (docs.length === 0) return [];
    const ids = docs.map((doc) => doc._id);
    const transitions = await this.transitions.find({ turnId: { $in: ids } }).toArray();
    const removed = docs.map((doc) => foldTurn(doc, transitions.filter((t) => t.turnId === doc._id)));
    await this.transitions.deleteMany({ turnId: { $in: ids } });
    await this.turns.deleteMany({ _id: { $in: ids } });
    return removed;
  }

  private async end(
    turnId: string,
    end: { status: FinalStatus; error?: TurnError; interruption?: Interruption; timeline?: TurnTimeline | undefined; at: Date },
  ): Promise<boolean> {
    const won = await this.insertTransition(withoutUndefined({ _id: `${turnId}.end`, turnId, kind: 'end' as const, ...end }));
    if (won) {
      const set = withoutUndefined({ status: end.status, error: end.error, interruption: end.interruption, timeline: end.timeline, completedAt: end.at });
      await this.project(turnId, { $set: set });
    }
    return won;
  }

  /**
   * True when this write's transition holds its id (its own retry included), false when another
   * writer's does. Each carries a random write id: two writers may write the same content in the
   * same millisecond, and only one of them wins.
   */
  private insertTransition(doc: TurnTransitionDocument): Promise<boolean> {
    return insertOnce(this.transitions, { ...doc, w: randomUUID() });
  }

  /**
   * The copy onto the turn document, made once by the writer that won the transition (so no
   * condition beyond the id is needed: FerretDB v1 finds a document fast only by `_id` alone,
   * and scans the collection for any other filter). Reads never depend on it, so a failure is
   * not the caller's.
   */
  private async project(turnId: string, update: UpdateFilter<TurnDocument>): Promise<void> {
    await this.turns.updateOne({ _id: turnId }, update).catch(() => undefined);
  }
}
