// The waiter-drop fault: the connection a result() waiter listens on (the SDK's blocking
// event-log reader, named `voxq-sdk-events`) is killed by Redis (CLIENT KILL) at the moment a
// watched turn completes. Two moments: `claim` — when the turn's end is claimed in its live state,
// so the end event is written while the waiter is reconnecting; `end` — when the end event itself
// lands in the log, so it may be delivered on the dying connection or only after the reconnect.
// The suite's own Redis has hash and stream keyspace events on (own-redis.ts).
import { Redis } from 'ioredis';
import { turnKeys } from '../../src/shared/live/live-keys.js';

export type DropMoment = 'claim' | 'end';

export interface WaiterDrop {
  turnId: string;
  moment: DropMoment;
  /** When the connection was killed (epoch ms); undefined when the turn never reached the moment. */
  killedAt?: number;
  /** Connections killed. */
  killed: number;
}

const WAITER_CONNECTION = 'voxq-sdk-events';

export class WaiterDropper {
  private readonly control: Redis;
  private readonly events: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.control = new Redis(url, { maxRetriesPerRequest: null });
    this.events = new Redis(url, { maxRetriesPerRequest: null });
    this.control.on('error', () => undefined);
    this.events.on('error', () => undefined);
  }

  /**
   * Watches the turn (subscribed before this resolves, so the turn may be enqueued after it) and
   * kills the waiter's connections at `moment`; `done` settles then, or after `timeoutMs` without it.
   */
  async watch(turn: { turnId: string; sessionId: string }, moment: DropMoment, timeoutMs: number): Promise<{ done: Promise<WaiterDrop> }> {
    const keys = turnKeys(this.prefix, turn.sessionId, turn.turnId);
    const key = moment === 'claim' ? keys.state : keys.log;
    const channel = `__keyspace@0__:${key}`;
    const drop: WaiterDrop = { turnId: turn.turnId, moment, killed: 0 };
    let fired = false;
    let finish: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (finish = resolve));
    const onMessage = (from: string, event: string) => {
      if (from !== channel || fired) return;
      void this.reached(key, moment, event).then(async (yes) => {
        if (!yes || fired) return;
        fired = true;
        drop.killedAt = Date.now();
        drop.killed = await this.killWaiters();
        finish();
      }, () => undefined);
    };
    this.events.on('message', onMessage);
    await this.events.subscribe(channel);
    const timer = setTimeout(finish, timeoutMs);
    const done = settled.then(async () => {
      clearTimeout(timer);
      this.events.removeListener('message', onMessage);
      await this.events.unsubscribe(channel).catch(() => undefined);
      return drop;
    });
    return { done };
  }

  private async reached(key: string, moment: DropMoment, event: string): Promise<boolean> {
    if (moment === 'claim') return event === 'hset' && (await this.control.hexists(key, 'ended')) === 1;
    if (event !== 'xadd') return false;
    const [last] = await this.control.xrevrange(key, '+', '-', 'COUNT', 1);
    return last?.[1].some((field) => field.includes('"type":"end"')) ?? false;
  }

  /** CLIENT KILL of every connection named as the SDK's event reader; how many. */
  private async killWaiters(): Promise<number> {
    const list = await this.control.client('LIST');
    const ids = String(list)
      .split('\n')
      .filter((line) => line.includes(` name=${WAITER_CONNECTION} `))
      .flatMap((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? []);
    let killed = 0;
    for (const id of ids) killed += Number(await this.control.client('KILL', 'ID', id));
    return killed;
  }

  close(): void {
    this.control.disconnect();
    this.events.disconnect();
  }
}
