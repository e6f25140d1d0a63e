// What the fault suite checks once the faults are over and the turns have had their time: every
// accepted turn as the stores hold it (MongoDB record, messages; Redis live state) and as its
// caller saw it (result()), turns that were refused but ran anyway, and what may leak in Redis
// (jobs, keys without a TTL, unfinished-turn entries, GPU leases).
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { isCluster, type RedisClient } from '../../src/shared/redis.js';
import type { QueueShards } from '../../src/shared/shards/queue-shards.js';
import { isFinalStatus, type Turn } from '../../src/shared/contracts/turn.js';
import { simulatedUuid } from '../../src/shared/gpu/simulated-inventory.js';
import { ReservationLedger } from '../../src/shared/gpu/reservation-ledger.js';
import { turnKeys } from '../../src/shared/live/live-keys.js';
import { StageQueues } from '../../src/shared/queues.js';
import { AUDIO_BUCKET } from '../../src/shared/store/mongo-audio-store.js';
import { MESSAGES_COLLECTION } from '../../src/shared/store/mongo-conversation-store.js';
import type { MongoStores } from '../../src/shared/store/mongo-stores.js';
import { TURNS_COLLECTION } from '../../src/shared/store/mongo-turn-store.js';
import type { DrivenTurn } from './turn-driver.js';

/** Job states in which a job still holds or waits for work. */
const LIVE_JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export interface TurnVerdict {
  turnId: string;
  /** Neither a MongoDB record nor a live state in Redis. */
  lost: boolean;
  /** Its record ended (completed, failed or interrupted). */
  ended: boolean;
  status: string | undefined;
  failedCode: string | undefined;
  userMessages: number;
  assistantMessages: number;
  /** A completed turn's reply audio is in the audio store (undefined for other turns). */
  replyAudioStored: boolean | undefined;
}

/** Reads a turn's record, retrying a store that does not answer. */
async function turnRecord(stores: MongoStores, turnId: string): Promise<Turn | null> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await stores.turns.get(turnId);
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Message counts per turn and role (every message of the database, read once). */
async function messageCounts(stores: MongoStores): Promise<Map<string, { user: number; assistant: number }>> {
  const counts = new Map<string, { user: number; assistant: number }>();
  const cursor = stores.db.collection<{ turnId?: string; role: string }>(MESSAGES_COLLECTION).find({}, { projection: { turnId: 1, role: 1 } });
  for await (const message of cursor) {
    const key = message.turnId ?? '(none)';
    const count = counts.get(key) ?? { user: 0, assistant: 0 };
    if (message.role === 'user') count.user += 1;
    else if (message.role === 'assistant') count.assistant += 1;
    counts.set(key, count);
  }
  return counts;
}

/**
 * Per accepted turn: its record, its messages and whether Redis still has its live state. The
 * records are read first: a turn's messages are written before its record ends, so a turn that
 * ends between the two reads is seen as not ended, never as ended without its messages.
 */
export async function judgeTurns(stores: MongoStores, redis: RedisClient, shards: QueueShards, turns: readonly DrivenTurn[]): Promise<{ verdicts: TurnVerdict[]; messages: Map<string, { user: number; assistant: number }> }> {
  const read: { turn: DrivenTurn; record: Turn | null; live: number; replyAudioStored: boolean | undefined }[] = [];
  for (const turn of turns) {
    const record = await turnRecord(stores, turn.turnId);
    const live = record ? 1 : await redis.exists(turnKeys(shards, turn.sessionId, turn.turnId).state);
    const replyAudioId = record?.status === 'completed' ? record.stages.tts?.output.audio.audioId : undefined;
    const replyAudioStored =
      record?.status !== 'completed' ? undefined : replyAudioId !== undefined && (await stores.db.collection<{ _id: string }>(`${AUDIO_BUCKET}.files`).findOne({ _id: replyAudioId })) !== null;
    read.push({ turn, record, live, replyAudioStored });
  }
  const messages = await messageCounts(stores);
  const verdicts = read.map(({ turn, record, live, replyAudioStored }): TurnVerdict => {
    const count = messages.get(turn.turnId) ?? { user: 0, assistant: 0 };
    return {
      turnId: turn.turnId,
      lost: record === null && live === 0,
      ended: record !== null && isFinalStatus(record.status),
      status: record?.status,
      failedCode: record?.status === 'failed' ? (record.error?.code ?? 'unknown') : undefined,
      userMessages: count.user,
      assistantMessages: count.assistant,
      replyAudioStored,
    };
  });
  return { verdicts, messages };
}

/** Turns the caller was told were not accepted, yet that left messages or a finished record. */
export async function refusedThatRan(stores: MongoStores, accepted: ReadonlySet<string>, messages: Map<string, { user: number; assistant: number }>): Promise<{ phantomMessages: number; phantomTurnIds: string[]; refusedCompleted: number; refusedRecordsLeft: number }> {
  let phantomMessages = 0;
  const phantomTurnIds: string[] = [];
  for (const [turnId, count] of messages) {
    if (accepted.has(turnId)) continue;
    phantomMessages += count.user + count.assistant;
    phantomTurnIds.push(turnId);
  }
  // Every turn record that is not an accepted turn's: a refused turn whose record stayed behind.
  const ids = await stores.db.collection<{ _id: string }>(TURNS_COLLECTION).find({}, { projection: { _id: 1 } }).toArray();
  let refusedCompleted = 0;
  let refusedRecordsLeft = 0;
  for (const { _id } of ids) {
    if (accepted.has(_id)) continue;
    refusedRecordsLeft += 1;
    const record = await turnRecord(stores, _id);
    if (record?.status === 'completed') refusedCompleted += 1;
  }
  return { phantomMessages, phantomTurnIds, refusedCompleted, refusedRecordsLeft };
}

export interface RedisLeftovers {
  /** Jobs still waiting, active or delayed in the stage queues. */
  liveJobs: number;
  /** `{sess_…}` keys without a TTL. */
  keysWithoutTtl: number;
  /** Entries left in `<prefix>:unfinished-turns`. */
  unfinishedEntries: number;
  /** Jobs that failed for good (kept 7 days by design; their turns failed). */
  failedJobs: number;
}

export async function redisLeftovers(redis: RedisClient, shards: QueueShards): Promise<RedisLeftovers> {
  const { prefix } = shards;
  const queues = new StageQueues({ connection: redis, prefix, attempts: 1, shards });
  let liveJobs = 0;
  let failedJobs = 0;
  for (const queue of queues.all()) {
    const counts = await queue.getJobCounts(...LIVE_JOB_STATES, 'failed');
    for (const state of LIVE_JOB_STATES) liveJobs += counts[state] ?? 0;
    failedJobs += counts.failed ?? 0;
  }
  await queues.close();
  // Session keys: `<prefix>:{sess_…}:…`, or `<prefix>:{<shard tag>}:sess_…:…` when sharded; on every master of a cluster.
  const pattern = shards.sharded ? `${prefix}:{*}:sess_*` : `${prefix}:{sess_*`;
  let keysWithoutTtl = 0;
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) if ((await node.pttl(key)) === -1) keysWithoutTtl += 1;
    } while (cursor !== '0');
  }
  const unfinishedEntries = await redis.zcard(`${prefix}:unfinished-turns`);
  return { liveJobs, keysWithoutTtl, unfinishedEntries, failedJobs };
}

export interface GpuLeftovers {
  /** Leases of processes that are gone (and unexpired), or job leases while no job runs. */
  leaked: number;
  /** Every lease in the ledgers (after the workers stopped: should be none). */
  held: number;
  /** Requests left on the cards' wait lists. */
  waiting: number;
}

/** The ledgers of the simulated cards, as the ledger itself reads them (expired leases dropped). */
export async function gpuLeftovers(redis: RedisClient, prefix: string, cards: number, livePids: readonly number[]): Promise<GpuLeftovers> {
  const ledger = new ReservationLedger(redis, prefix);
  const result: GpuLeftovers = { leaked: 0, held: 0, waiting: 0 };
  for (let index = 0; index < cards; index += 1) {
    const card = { host: resolveHostId(), uuid: simulatedUuid(index) };
    const leases = await ledger.snapshot(card);
    result.held += leases.length;
    for (const lease of leases) {
      const service = typeof lease.meta.serviceId === 'string' ? lease.meta.serviceId : '';
      if (!livePids.includes(lease.pid) || service.endsWith(':job')) result.leaked += 1;
    }
    result.waiting += await redis.zcard(ledger.keys(card)[4] as string);
  }
  return result;
}
