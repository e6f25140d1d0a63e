// Turn logs on a Redis Cluster: one XREAD reads streams of one slot only, so the logs followed
// are read by one TurnLogReader per hash tag (a queue shard carries its sessions' logs under its
// tag), each on a blocking connection of its own and woken through a stream in its slot.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis.js';
import { hashedPart } from '../shards/key-slot.js';
import { TurnLogReader, type LogFollower } from './turn-log-reader.js';

export interface ShardedLogReaderOptions {
  /** A fresh blocking connection (not resending commands after a reconnect: see TurnLogReader). */
  openBlocking: () => RedisClient;
  /** Any ordinary connection, shared (wakes the reads). */
  control: RedisClient;
  /** VOXQ_PREFIX: the wake streams are `<prefix>:{<tag>}:log-wake:<id>`. */
  prefix: string;
  onError?: (error: unknown) => void;
  blockMs?: number;
}

export class ShardedLogReader implements LogFollower {
  private readonly readers = new Map<string, { reader: TurnLogReader; blocking: RedisClient }>();
  private readonly id = randomUUID();
  private closed = false;

  constructor(private readonly options: ShardedLogReaderOptions) {}

  follow(key: string, afterId: string, listener: Parameters<TurnLogReader['follow']>[2]): () => void {
    if (this.closed) return () => undefined;
    const tag = hashedPart(key);
    let entry = this.readers.get(tag);
    if (!entry) {
      const blocking = this.options.openBlocking();
      const wakeKey = `${this.options.prefix}:{${tag}}:log-wake:${this.id}`;
      entry = { reader: new TurnLogReader(blocking, this.options.control, this.options.onError, this.options.blockMs, wakeKey), blocking };
      this.readers.set(tag, entry);
    }
    return entry.reader.follow(key, afterId, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const readers = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(readers.map((r) => r.reader.close()));
    for (const { blocking } of readers) blocking.disconnect();
  }
}
