// What the workers publish when a turn moves, so waiters in any process hear of it.
import { z } from 'zod';
import { stageNameSchema, turnIdSchema, turnStatusSchema } from './turn.js';

export const turnEventSchema = z.object({
  turnId: turnIdSchema,
  status: turnStatusSchema,
  stage: stageNameSchema.optional(),
});
export type TurnEvent = z.infer<typeof turnEventSchema>;
