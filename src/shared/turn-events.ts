// A turn's end over Redis pub/sub: workers publish completed/failed, waiters in any process listen. Pub/sub
// loses messages nobody hears, so a waiter always re-reads the turn document after it
// subscribes; the event only says "look now".
import type { Redis } from 'ioredis';
import { turnEventSchema, type TurnEvent } from './contracts/turn-event.js';

export function turnEventsChannel(prefix: string): string {
  return `${prefix}:turn-events`;
}

export class TurnEventPublisher {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async publish(event: TurnEvent): Promise<void> {
    await this.redis.publish(turnEventsChannel(this.prefix), JSON.stringify(event));
  }
}

export type TurnEventListener = (event: TurnEvent) => void;

/** One subscriber connection, fanned out to listeners by turn id. */
export class TurnEventSubscriber {
  private readonly listeners = new Map<string, Set<TurnEventListener>>();
  private ready: Promise<unknown> | undefined;

  constructor(private readonly redis: Redis, private readonly prefix: string) {
    redis.on('message', (_channel: string, message: string) => this.dispatch(message));
  }

  /** Subscribes once; resolves when Redis confirmed the subscription. */
  start(): Promise<unknown> {
    this.ready ??= this.redis.subscribe(turnEventsChannel(this.prefix));
    return this.ready;
  }

  on(turnId: string, listener: TurnEventListener): () => void {
    let set = this.listeners.get(turnId);
    if (!set) {
      set = new Set();
      this.listeners.set(turnId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(turnId);
    };
  }

  private dispatch(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    const event = turnEventSchema.safeParse(parsed);
    if (!event.success) return;
    for (const listener of this.listeners.get(event.data.turnId) ?? []) listener(event.data);
  }
}
