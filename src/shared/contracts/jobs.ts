// What each queue's job carries: references only (never audio bytes or message text), so a
// queued turn costs Redis a few hundred bytes whatever its audio size. Job ids derive from the
// turn id, so a retry or a double enqueue never creates a second job.
import { z } from 'zod';
import { sessionIdSchema, turnIdSchema, type StageName } from './turn.js';

export const stageJobSchema = z.strictObject({
  turnId: turnIdSchema,
  sessionId: sessionIdSchema,
});
export type StageJobData = z.infer<typeof stageJobSchema>;

/** The job name in every stage queue. */
export const STAGE_JOB_NAME = 'turn';

/** BullMQ forbids ':' in custom ids, so the stage is joined with '.'. */
export function stageJobId(turnId: string, stage: StageName): string {
  return `${turnId}.${stage}`;
}

/** Live turns outrank batch work on the same STT workers (BullMQ: lower number = sooner). */
export const PRIORITY_LIVE = 1;
export const PRIORITY_BATCH = 10;
