// Two turns of one session never run their LLM stage at once: a turn's LLM stage starts once
// every earlier turn of its session has ended, so its context holds their outcome. The session's
// unfinished turns sit in a sorted set in enqueue order (src/shared/live/live-keys.ts); a turn
// with an earlier one still there goes back to the queue as delayed (no attempt spent), and the
// earlier turn's end promotes it at once (src/shared/live/turn-ender.ts). Turns of other
// sessions are not touched.
import { DelayedError } from 'bullmq';
import type { StageRun } from './run-stage.js';

/** When the earlier turn's end fails to promote this one (a lost promotion), it looks again after this. */
export const ORDER_RECHECK_MS = 2000;

/** Returns when the turn may run its LLM stage; otherwise parks the job and throws DelayedError. */
export async function awaitSessionTurn(run: StageRun): Promise<void> {
  const { live } = run.deps;
  const earlier = await live.earlierUnfinished(run.ref);
  if (earlier === 0) return;
  run.deps.log.debug({ turnId: run.ref.turnId, earlier }, 'an earlier turn of the session is unfinished: the llm stage waits for it');
  await run.job.moveToDelayed(Date.now() + ORDER_RECHECK_MS, run.token);
  throw new DelayedError();
}
