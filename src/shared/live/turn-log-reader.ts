// Reads many turns' event logs on one blocking connection: one XREAD BLOCK over every stream
// being followed. A new follower wakes the blocked read at once (CLIENT UNBLOCK from a second
// connection), so it waits for no timeout; each follower gets the entries after the last one it
// saw, in order, and a follower that starts late or reconnects replays from where it says.
// On a Redis Cluster (a `wakeKey` given: a stream in the followed logs' slot) the read is woken
// by an entry in that stream instead, as CLIENT UNBLOCK would have to reach the read's own node.
import type { RedisClient } from '../redis.js';
import type { LoggedEvent } from '../contracts/turn-event.js';
import { parseLogFields } from './live-turns.js';

type Listener = (events: LoggedEvent[]) => void;

interface Follower {
  lastId: string;
  listener: Listener;
}

const BLOCK_MS = 5000;
const COUNT = 200;

/** Stream ids compare as (ms, seq) pairs. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

export class TurnLogReader {
  private readonly followers = new Map<string, Set<Follower>>();
  private loop: Promise<void> | undefined;
  private blockedClientId: number | undefined;
  private blocked = false;
  /** Ends the read in flight when its connection closes (without resending, ioredis never settles it). */
  private dropRead: (() => void) | undefined;
  /** Counts blocking reads, so a late retry of UNBLOCK never wakes a later read. */
  private generation = 0;
  private closed = false;
  /** The last wake entry seen (wakeKey mode): wakes written after it end the next read at once. */
  private wakeId = '0-0';

  /**
   * `blocking` is used for nothing else, and should not resend commands after a reconnect
   * (`autoResendUnfulfilledCommands: false`): a resent read blocks under a connection id this
   * reader does not know, so new followers would wait out `blockMs` behind it. The reader
   * reissues a read lost to a reconnect itself. `control` is any ordinary connection.
   */
  constructor(
    private readonly blocking: RedisClient,
    private readonly control: RedisClient,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly blockMs = BLOCK_MS,
    private readonly wakeKey?: string,
  ) {
    blocking.on('close', () => {
      this.blockedClientId = undefined; // a reconnect gives the connection a new id
      this.dropRead?.();
    });
  }

  /** Follows the log at `key` after `afterId` ('0': from the start). Returns the unfollow function. */
  follow(key: string, afterId: string, listener: Listener): () => void {
    const follower: Follower = { lastId: afterId, listener };
    let set = this.followers.get(key);
    if (!set) {
      set = new Set();
      this.followers.set(key, set);
    }
    set.add(follower);
    this.wake();
    return () => {
      set.delete(follower);
      if (set.size === 0 && this.followers.get(key) === set) this.followers.delete(key);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.followers.clear();
    this.wake();
    await this.loop?.catch(() => undefined);
  }

  private wake(): void {
    if (this.loop === undefined) {
      this.loop = this.run().finally(() => {
        this.loop = undefined;
        if (!this.closed && this.followers.size > 0) this.wake();
      });
      return;
    }
    this.unblock(0);
  }

  /**
   * Wakes the blocked read so it takes the new follower in. The UNBLOCK travels on another
   * connection and may overtake the XREAD it is meant for: while the read is still pending and
   * was not unblocked, try again shortly.
   */
  private unblock(tries: number): void {
    if (this.wakeKey !== undefined) {
      if (!this.blocked) return;
      this.control
        .multi()
        .xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1')
        .pexpire(this.wakeKey, 60_000)
        .exec()
        .then(() => undefined, this.onError);
      return;
    }
    if (!this.blocked || this.blockedClientId === undefined || tries > 100) return;
    const generation = this.generation;
    this.control.client('UNBLOCK', this.blockedClientId).then(
      (unblocked) => {
        if (Number(unblocked) === 0 && this.blocked && this.generation === generation) setTimeout(() => this.unblock(tries + 1), 1);
      },
      this.onError,
    );
  }

  private async run(): Promise<void> {
    while (!this.closed && this.followers.size > 0) {
      let reply: [string, [string, string[]][]][] | null;
      let keys: string[] = [];
      let ids: string[] = [];
      try {
        if (this.wakeKey === undefined) this.blockedClientId ??= Number(await this.blocking.client('ID'));
        // From here to the XREAD being sent nothing awaits, so a follower added meanwhile is either in `keys` or wakes the read.
        keys = [...this.followers.keys()];
        if (keys.length === 0) return;
        ids = keys.map((key) => this.fromId(key));
        const wake = this.wakeKey === undefined ? [] : [this.wakeKey];
        this.blocked = true;
        this.generation += 1;
        let watchdog: NodeJS.Timeout | undefined;
        const dropped = new Promise<never>((_, reject) => {
          this.dropRead = () => reject(new Error('the connection closed during the read'));
          // A cluster node that died under the read may never answer it: give up on it past its block time.
          if (this.wakeKey !== undefined) watchdog = setTimeout(() => reject(new Error('the read outlived its block time')), this.blockMs + 5000);
        });
        try {
          reply = await Promise.race([this.blocking.xread('COUNT', COUNT, 'BLOCK', this.blockMs, 'STREAMS', ...keys, ...wake, ...ids, ...wake.map(() => this.wakeId)), dropped]);
        } finally {
          clearTimeout(watchdog);
        }
      } catch (error) {
        this.blockedClientId = undefined;
        if (this.closed) return;
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      } finally {
        this.blocked = false;
        this.dropRead = undefined;
      }
      for (const [key, entries] of reply ?? []) {
        if (key === this.wakeKey) this.wakeId = entries.at(-1)?.[0] ?? this.wakeId;
        else this.dispatch(key, entries, ids[keys.indexOf(key)] ?? '0');
      }
    }
  }

  /** The earliest position any follower of the stream is at. */
  private fromId(key: string): string {
    let min: string | undefined;
    for (const f of this.followers.get(key) ?? []) if (min === undefined || compareStreamIds(f.lastId, min) < 0) min = f.lastId;
    return min ?? '0';
  }

  /**
   * `readFrom`: where the read started. A follower further back (it joined while the read was
   * in flight, e.g. a reconnect) is left for the next read, which starts at it: handing it these
   * entries would skip the ones between its position and `readFrom`.
   */
  private dispatch(key: string, entries: [string, string[]][], readFrom: string): void {
    const events: LoggedEvent[] = [];
    for (const [id, fields] of entries) {
      const event = parseLogFields(fields);
      if (event) events.push({ id, event });
    }
    const last = entries.at(-1)?.[0];
    for (const follower of [...(this.followers.get(key) ?? [])]) {
      if (compareStreamIds(follower.lastId, readFrom) < 0) continue;
      const fresh = events.filter((e) => compareStreamIds(e.id, follower.lastId) > 0);
      if (last !== undefined && compareStreamIds(last, follower.lastId) > 0) follower.lastId = last;
      if (fresh.length > 0) follower.listener(fresh);
    }
  }
}

/** What a consumer of turn logs needs of a reader (one TurnLogReader, or one per cluster shard). */
export type LogFollower = Pick<TurnLogReader, 'follow' | 'close'>;
