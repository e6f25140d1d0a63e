// A stage's output and timing, validated against the turn schema before any store writes it.
import { turnSchema, type StageName, type StageOutputs, type StageTiming, type Turn } from '../contracts/turn.js';

type StageRecords = Turn['stages'];

/** Throws a ZodError when the output or timing does not match the turn document's schema. */
export function parseStageRecord<S extends StageName>(
  stage: S,
  output: StageOutputs[S],
  timing: StageTiming,
): NonNullable<StageRecords[S]> {
  const schema = turnSchema.shape.stages.shape[stage].unwrap();
  return schema.parse({ output, timing }) as NonNullable<StageRecords[S]>;
}

export { FINAL_STATUSES } from '../contracts/turn.js';

export const DEFAULT_TURN_LIST_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 50;

/** A positive integer limit, or the default when absent; rejects nonsense early. */
export function normalizeLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return limit;
}
