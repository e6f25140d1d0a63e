// Awaits a turn's end from any process by following its event log (src/shared/live): a stream
// keeps every event, so an end written while nobody listened — or while the waiter's connection
// was down — is read when it listens again, never lost as a pub/sub message would be. When the
// end is in the log, the record (written before it) gives the finished turn. Without a log (it
// expired, or Redis lost it) the record is read now and again until the turn ends. A store that
// is down meanwhile only delays the answer: the wait ends by the turn's end or its timeout.
import { isFinalStatus, type Turn } from '../../shared/contracts/turn.js';
import { NotFoundError, TimeoutError } from '../../shared/errors.js';
import { isInfrastructureOutage } from '../../shared/infra-errors.js';
import type { LiveTurns, TurnRef } from '../../shared/live/live-turns.js';
import type { LogFollower } from '../../shared/live/turn-log-reader.js';
import type { TurnStore } from '../../shared/ports/turn-store.js';

/** How often the record is read again while no end has come (a safety net; the log wakes waiters at once). */
const RECHECK_MS = 5000;
/** How soon a read the outage refused is tried again. */
const OUTAGE_RETRY_MS = 1000;

export class TurnWaiter {
  constructor(
    private readonly reader: LogFollower,
    private readonly live: LiveTurns,
    private readonly turns: TurnStore,
  ) {}

  /**
   * Resolves with the turn once it ended (completed, failed or interrupted); rejects with
   * TimeoutError, leaving the turn running. An aborted `signal` stops the wait (rejects with its
   * reason); the turn runs on. Without `sessionId` the record is read first to find it.
   */
  async wait(turnId: string, timeoutMs: number, signal?: AbortSignal, sessionId?: string): Promise<Turn> {
    signal?.throwIfAborted();
    let session = sessionId;
    if (session === undefined) {
      const turn = await this.turns.get(turnId);
      if (!turn) throw new NotFoundError('turn_not_found', `turn ${turnId} does not exist`);
      if (isFinalStatus(turn.status)) return turn;
      session = turn.sessionId;
    }
    const ref: TurnRef = { turnId, sessionId: session };
    return new Promise<Turn>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: { turn: Turn } | { error: Error }) => {
        if (settled) return;
        settled = true;
        unfollow();
        clearTimeout(timer);
        clearInterval(recheck);
        signal?.removeEventListener('abort', onAbort);
        if ('turn' in outcome) resolve(outcome.turn);
        else reject(outcome.error);
      };
      const check = (mustExist: boolean) => {
        this.turns.get(turnId).then(
          (turn) => {
            if (!turn) {
              if (mustExist) finish({ error: new NotFoundError('turn_not_found', `turn ${turnId} does not exist`) });
            } else if (isFinalStatus(turn.status)) finish({ turn });
          },
          (error: unknown) => {
            // A store that is down does not end the wait: the record is read again (the timeout still bounds it).
            if (isInfrastructureOutage(error)) {
              if (mustExist && !settled) setTimeout(() => check(true), OUTAGE_RETRY_MS).unref();
            } else finish({ error: error instanceof Error ? error : new Error(String(error)) });
          },
        );
      };
      const unfollow = this.reader.follow(this.live.keys(ref).log, '0', (events) => {
        if (events.some(({ event }) => event.type === 'end')) check(true);
      });
      const timer = setTimeout(
        () =>
          finish({
            error: new TimeoutError(
              'turn_wait_timeout',
              `turn ${turnId} did not finish within ${timeoutMs} ms; it is still running: call result() again or getTurn()`,
            ),
          }),
        timeoutMs,
      );
      const recheck = setInterval(() => check(false), RECHECK_MS);
      recheck.unref();
      const onAbort = () => finish({ error: signal?.reason instanceof Error ? signal.reason : new Error('the wait was aborted') });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      // No log: it expired or was lost; the record answers (now, and at each recheck).
      this.live.hasLog(ref).then(
        (exists) => {
          if (!exists) check(true);
        },
        () => check(true),
      );
    });
  }
}
