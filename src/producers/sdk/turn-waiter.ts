// Awaits a turn's end from any process: listens for its events, and re-reads the turn
// document whenever one arrives (and once right after subscribing, so an end that came
// before we listened is not missed).
import type { Turn } from '../../shared/contracts/turn.js';
import { NotFoundError, TimeoutError } from '../../shared/errors.js';
import type { TurnStore } from '../../shared/ports/turn-store.js';
import type { TurnEventSubscriber } from '../../shared/turn-events.js';

const isFinished = (turn: Turn) => turn.status === 'completed' || turn.status === 'failed';

export class TurnWaiter {
  constructor(
    private readonly subscriber: TurnEventSubscriber,
    private readonly turns: TurnStore,
  ) {}

  /**
   * Resolves with the turn once it completed or failed; rejects with TimeoutError, leaving the
   * turn running. An aborted `signal` stops the wait (rejects with its reason); the turn runs on.
   */
  async wait(turnId: string, timeoutMs: number, signal?: AbortSignal): Promise<Turn> {
    signal?.throwIfAborted();
    await this.subscriber.start();
    return new Promise<Turn>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: { turn: Turn } | { error: Error }) => {
        if (settled) return;
        settled = true;
        off();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if ('turn' in outcome) resolve(outcome.turn);
        else reject(outcome.error);
      };
      const check = () => {
        this.turns.get(turnId).then(
          (turn) => {
            if (!turn) finish({ error: new NotFoundError('turn_not_found', `turn ${turnId} does not exist`) });
            else if (isFinished(turn)) finish({ turn });
          },
          (error: unknown) => finish({ error: error instanceof Error ? error : new Error(String(error)) }),
        );
      };
      const off = this.subscriber.on(turnId, (event) => {
        if (event.status === 'completed' || event.status === 'failed') check();
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
      const onAbort = () => finish({ error: signal?.reason instanceof Error ? signal.reason : new Error('the wait was aborted') });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }
}
