// What each queue's job carries: references only (never audio bytes or message text), so a
// queued turn costs Redis a few hundred bytes whatever its audio size. Job ids derive from the
// turn id, so a retry or a double enqueue never creates a second job.
import { z } from 'zod';
import { sessionIdSchema, turnIdSchema, type StageName } from './turn.js';

export const stageJobSchema = z.strictObject({
  turnId: turnIdSchema,
  sessionId: sessionIdSchema,
  /** `tts` jobs: which sentence of the reply (0-based); its text is in the turn's live state. */
  sentence: z.number().int().nonnegative().max(10_000).optional(),
  /** Set while the job waits out an outage of MongoDB or Redis: when it was first met (epoch ms). */
  outageSince: z.number().int().nonnegative().optional(),
});
export type StageJobData = z.infer<typeof stageJobSchema>;

/** The job name in every stage queue. */
export const STAGE_JOB_NAME = 'turn';

/** BullMQ forbids ':' in custom ids, so the stage is joined with '.'. */
export function stageJobId(turnId: string, stage: StageName, sentence?: number): string {
  return sentence === undefined ? `${turnId}.${stage}` : `${turnId}.${stage}.${sentence}`;
}

/**
 * Live turns carry no priority: BullMQ runs jobs without one before any prioritized job, and
 * on its fastest path. Batch work is added with this priority, so live turns go first on the
 * same STT workers.
 */
export const PRIORITY_BATCH = 10;
