// Where a session's turns run and where their keys live. Unsharded (one Redis, one shard), the
// layout is voxq's first one: the stage queues `stt`, `llm`, `tts` under VOXQ_PREFIX and each
// session's keys under its own hash tag, `<prefix>:{<sessionId>}:…`. Sharded (a Redis Cluster,
// or VOXQ_QUEUE_SHARDS > 1), each shard has one hash tag, shared by its three stage queues
// (`<prefix>:{<tag>}:stt.<i>` …) and by the keys of the sessions it carries
// (`<prefix>:{<tag>}:<sessionId>:…`), so every multi-key operation — voxq's Lua scripts, MULTI,
// BullMQ's scripts and flows across a shard's queues — stays in one slot by design. A session
// belongs to one shard (by the slot of its id), so its turns stay there for every stage and its
// order holds. The tags are chosen from the cluster's slot map, shard i on master i mod M
// (masters ordered by node id), and stored in Redis so that every process uses the same ones.
import type { StageName } from '../contracts/turn.js';
import { isCluster, type RedisClient } from '../redis.js';
import { keySlot } from './key-slot.js';

/** What the live keys need to know of the layout: the hash-tagged head of a session's keys. */
export interface KeySpace {
  sessionTag(sessionId: string): string;
}

export class QueueShards implements KeySpace {
  /** `tags`: one per shard; null for the unsharded layout. */
  constructor(
    readonly prefix: string,
    readonly tags: readonly string[] | null,
  ) {
    if (tags !== null && tags.length === 0) throw new Error('a sharded layout needs at least one tag');
  }

  static unsharded(prefix: string): QueueShards {
    return new QueueShards(prefix, null);
  }

  get count(): number {
    return this.tags?.length ?? 1;
  }

  get sharded(): boolean {
    return this.tags !== null;
  }

  indexes(): number[] {
    return Array.from({ length: this.count }, (_, i) => i);
  }

  /** The shard of a session: every turn of it, every stage (the slot of its id, spread over the shards). */
  shardOf(sessionId: string): number {
    return this.tags === null ? 0 : keySlot(sessionId) % this.tags.length;
  }

  sessionTag(sessionId: string): string {
    if (this.tags === null) return `${this.prefix}:{${sessionId}}`;
    return `${this.shardHead(this.shardOf(sessionId))}:${sessionId}`;
  }

  /** `<prefix>:{<tag>}`: the shard's queues' BullMQ prefix, and the head of every key of its sessions. */
  shardHead(shard: number): string {
    if (this.tags === null) return this.prefix;
    const tag = this.tags[shard];
    if (tag === undefined) throw new RangeError(`no shard ${shard} (of ${this.tags.length})`);
    return `${this.prefix}:{${tag}}`;
  }

  /** BullMQ prefix of the shard's queues. */
  queuePrefix(shard: number): string {
    return this.shardHead(shard);
  }

  /** BullMQ name of a stage's queue on a shard: `stt`, or `stt.<i>` when sharded (Bull Board groups by the dot). */
  queueName(stage: StageName, shard: number): string {
    return this.tags === null ? stage : `${stage}.${shard}`;
  }

  /** The shard a stage queue name belongs to, and its stage (undefined for a name that is not one). */
  parseQueueName(name: string): { stage: string; shard: number } {
    const dot = name.lastIndexOf('.');
    if (this.tags === null || dot < 0) return { stage: name, shard: 0 };
    return { stage: name.slice(0, dot), shard: Number(name.slice(dot + 1)) };
  }
}

/** Where the chosen tags are kept (a plain key: any node; read once per process). */
export function shardMapKey(prefix: string, count: number): string {
  return `${prefix}:queue-shards:${count}`;
}

interface SlotRange {
  start: number;
  end: number;
  masterId: string;
}

/** CLUSTER SLOTS → each range's master (its node id, or host:port when the reply lacks ids). */
function slotRanges(reply: unknown): SlotRange[] {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS answered something else than a list');
  return reply.map((entry: unknown) => {
    const [start, end, master] = entry as [number, number, [string, number, string?]];
    return { start: Number(start), end: Number(end), masterId: String(master[2] ?? `${master[0]}:${master[1]}`) };
  });
}

/**
 * One tag per shard, shard i on master i mod M: the first of `s<i>`, `s<i>-1`, `s<i>-2` … whose
 * slot that master serves. Masters in node-id order, so every process given the same slot map
 * chooses the same tags.
 */
export function chooseShardTags(count: number, ranges: readonly SlotRange[]): string[] {
  const masters = [...new Set(ranges.map((r) => r.masterId))].sort();
  if (masters.length === 0) throw new Error('the cluster serves no slots');
  const owner = (slot: number) => ranges.find((r) => slot >= r.start && slot <= r.end)?.masterId;
  return Array.from({ length: count }, (_, shard) => {
    const master = masters[shard % masters.length];
    for (let k = 0; k < 100_000; k += 1) {
      const tag = k === 0 ? `s${shard}` : `s${shard}-${k}`;
      if (owner(keySlot(tag)) === master) return tag;
    }
    throw new Error(`no tag found for shard ${shard}`);
  });
}

/**
 * The layout for this connection: unsharded on one Redis with one shard; else the shards' tags,
 * chosen once (by the first process to ask, from the slot map on a cluster) and read back by the
 * others. Changing VOXQ_QUEUE_SHARDS gives a new layout: drain the queues first.
 */
export async function resolveQueueShards(redis: RedisClient, options: { prefix: string; shards: number }): Promise<QueueShards> {
  const { prefix, shards } = options;
  if (!isCluster(redis)) {
    return shards === 1 ? QueueShards.unsharded(prefix) : new QueueShards(prefix, Array.from({ length: shards }, (_, i) => `s${i}`));
  }
  const key = shardMapKey(prefix, shards);
  const stored = await redis.get(key);
  if (stored === null) {
    const tags = chooseShardTags(shards, slotRanges(await redis.cluster('SLOTS')));
    await redis.set(key, JSON.stringify(tags), 'NX');
  }
  const tags: unknown = JSON.parse((await redis.get(key)) ?? '[]');
  if (!Array.isArray(tags) || tags.length !== shards || !tags.every((t) => typeof t === 'string' && /^[\w-]+$/.test(t))) {
    throw new Error(`${key} holds no valid shard map; delete it to choose the tags again`);
  }
  return new QueueShards(prefix, tags as string[]);
}
