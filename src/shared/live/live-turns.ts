// A turn's live state in Redis: what the stages need on the path to first audio (the turn as
// enqueued, each stage's output, the reply's sentences), its event log, the delivery of sentence
// audio in index order, the end claim that fences every later write, and its milestones.
// MongoDB keeps the durable record beside this; nothing here waits on it.
import type { RedisClient } from '../redis.js';
import { turnLogEventSchema, type TurnLogEvent } from '../contracts/turn-event.js';
import { turnSchema, type StageName, type Turn, type TurnTimeline } from '../contracts/turn.js';
import { sessionTag, turnKeys, type LiveKeySpace, type TurnKeys } from './live-keys.js';
import { liveScripts, type LiveScripts } from './live-scripts.js';

export interface TurnRef {
  turnId: string;
  sessionId: string;
}

/** The live state's options from config. */
export function liveTurnsOptionsFrom(config: { VOXQ_PREFIX: string; VOXQ_EVENT_LOG_TTL_MS: number }): LiveTurnsOptions {
  return { prefix: config.VOXQ_PREFIX, ttlMs: config.VOXQ_EVENT_LOG_TTL_MS, maxLogEntries: 5000 };
}

/** A running turn's state outlives any queue wait; once it has ended, `ttlMs` applies. */
export const RUNNING_TTL_MS = 24 * 3600 * 1000;

export interface LiveTurnsOptions {
  /** VOXQ_PREFIX (the unsharded layout), or the queue shards' key space. */
  prefix: LiveKeySpace;
  /** How long a turn's state and log are kept after it ended (while it runs: at least RUNNING_TTL_MS). */
  ttlMs: number;
  /** Approximate bound on a log's entries (text deltas included). */
  maxLogEntries: number;
}

type StageRecord = NonNullable<Turn['stages'][StageName]>;

/** A delivered sentence's text and audio length: what "heard" is computed from. */
export interface SentenceMeta {
  index: number;
  text: string;
  durationMs: number;
  /** The TTS that synthesized it (the finished turn's tts record names it). */
  provider?: string;
  model?: string;
  /** The attempt of its TTS job that synthesized it. */
  attempts?: number;
}

/** Milestone fields of the state hash, as epoch ms. */
const MILESTONES = {
  transcriptMs: 't:transcript',
  firstTokenMs: 't:firstToken',
  firstSentenceMs: 't:firstSentence',
  firstAudioMs: 't:firstAudio',
  lastAudioMs: 't:lastAudio',
} as const satisfies Record<keyof TurnTimeline, string>;
export type Milestone = keyof typeof MILESTONES;

/** JSON.parse for turns: fields named `…At` are dates. */
function reviveDates(key: string, value: unknown): unknown {
  return typeof value === 'string' && key.endsWith('At') ? new Date(value) : value;
}

export class LiveTurns {
  private readonly scripts: LiveScripts;
  private readonly runningTtlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: LiveTurnsOptions,
  ) {
    this.scripts = liveScripts(redis);
    this.runningTtlMs = Math.max(options.ttlMs, RUNNING_TTL_MS);
  }

  /** The head every key of the session and its turns starts with (one hash tag). */
  sessionTag(sessionId: string): string {
    return sessionTag(this.options.prefix, sessionId);
  }

  keys(ref: TurnRef): TurnKeys {
    return turnKeys(this.options.prefix, ref.sessionId, ref.turnId);
  }

  /**
   * Writes the turn as enqueued, its `accepted` event and its place in the session's order; false
   * when it was already open. `pending`: the producer confirms with accept() once the database
   * holds the turn too; until then workers may run it but not end it (see claimEnd).
   */
  async open(turn: Turn, inputAudio?: Uint8Array, options: { pending?: boolean } = {}): Promise<boolean> {
    const k = this.keys(turn);
    const accepted: TurnLogEvent = { type: 'accepted', at: Date.now(), route: turn.route ?? 'text-llm-tts' };
    if (inputAudio) await this.redis.set(k.input, Buffer.from(inputAudio.buffer, inputAudio.byteOffset, inputAudio.byteLength), 'PX', this.runningTtlMs);
    const opened = await this.scripts.voxqLiveOpen(
      k.state,
      k.log,
      k.sessionTurns,
      `${k.sessionTurns}:seq`,
      this.options.maxLogEntries,
      this.runningTtlMs,
      JSON.stringify(turn),
      JSON.stringify(accepted),
      turn.turnId,
      options.pending ? '1' : '0',
    );
    return opened === 1;
  }

  /**
   * The turn as the stages left it (null when its state has expired or was lost), its end claim,
   * and whether the end was written (a claim without it is an ending to finish: TurnEnder.resume).
   */
  async load(ref: TurnRef): Promise<{ turn: Turn | null; ended: string | null; endWritten: boolean; endDetail: string | null; pending: boolean }> {
    const [json, stt, llm, tts, ended, endWritten, endDetail, pending] = await this.redis.hmget(
      this.keys(ref).state,
      'turn',
      'out:stt',
      'out:llm',
      'out:tts',
      'ended',
      'endWritten',
      'endDetail',
      'pending',
    );
    const end = { ended: ended ?? null, endWritten: endWritten !== null, endDetail: endDetail ?? null, pending: pending !== null };
    if (!json) return { turn: null, ...end };
    const turn = turnSchema.parse(JSON.parse(json, reviveDates));
    const stages = { ...turn.stages };
    if (stt) stages.stt = JSON.parse(stt, reviveDates) as StageRecord & Turn['stages']['stt'];
    if (llm) stages.llm = JSON.parse(llm, reviveDates) as StageRecord & Turn['stages']['llm'];
    if (tts) stages.tts = JSON.parse(tts, reviveDates) as StageRecord & Turn['stages']['tts'];
    return { turn: { ...turn, stages }, ...end };
  }

  async inputAudio(ref: TurnRef): Promise<Uint8Array | null> {
    const bytes = await this.redis.getBuffer(this.keys(ref).input);
    return bytes ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  }

  /** Forgets a turn's live state, log and input (a withdrawn turn retried afresh). */
  async discard(ref: TurnRef): Promise<void> {
    const k = this.keys(ref);
    await this.redis.del(k.state, k.log, k.input);
  }

  async isEnded(ref: TurnRef): Promise<boolean> {
    return (await this.redis.hexists(this.keys(ref).state, 'ended')) === 1;
  }

  /** True for the first stage job that starts work on the turn (it marks the record running). */
  async claimRunning(ref: TurnRef): Promise<boolean> {
    const key = this.keys(ref).state;
    const result = await this.redis.multi().hsetnx(key, 'running', 1).pexpire(key, this.runningTtlMs).exec();
    return result?.[0]?.[1] === 1;
  }

  /** Records a stage's output (first write wins); the winner, or null once the turn has ended. */
  async recordOutput<S extends StageName>(ref: TurnRef, stage: S, record: NonNullable<Turn['stages'][S]>): Promise<NonNullable<Turn['stages'][S]> | null> {
    const mark = stage === 'stt' ? MILESTONES.transcriptMs : '';
    const stored = await this.put(ref, `out:${stage}`, JSON.stringify(record), '', 0, mark);
    return stored === null ? null : (JSON.parse(stored, reviveDates) as NonNullable<Turn['stages'][S]>);
  }

  /** A reply sentence handed to TTS (first text wins); null once the turn has ended. */
  async handSentence(ref: TurnRef, index: number, text: string): Promise<string | null> {
    return this.put(ref, `s:${index}`, text, 'added', index + 1, index === 0 ? MILESTONES.firstSentenceMs : '');
  }

  async sentenceText(ref: TurnRef, index: number): Promise<string | null> {
    return this.redis.hget(this.keys(ref).state, `s:${index}`);
  }

  /** How many sentences have been handed to TTS (their jobs are `<turnId>.tts.<0…n-1>`). */
  async sentencesHanded(ref: TurnRef): Promise<number> {
    return Number((await this.redis.hget(this.keys(ref).state, 'added')) ?? 0);
  }

  /** Appends an event unless the turn has ended; the stream id, or null. `mark`: a milestone first reached now. */
  async append(ref: TurnRef, event: TurnLogEvent, mark?: Milestone): Promise<string | null> {
    const k = this.keys(ref);
    const id = await this.scripts.voxqLiveAppend(k.state, k.log, this.options.maxLogEntries, this.runningTtlMs, JSON.stringify(event), mark ? MILESTONES[mark] : '', Date.now());
    return typeof id === 'string' ? id : null;
  }

  /** Delivers one sentence's chunk in index order. `complete`: every sentence of the reply is now in the log. */
  async deliver(
    ref: TurnRef,
    event: Extract<TurnLogEvent, { type: 'sentence' }>,
    tts: { provider: string; model: string; attempts: number },
  ): Promise<{ ended: boolean; duplicate: boolean; complete: boolean }> {
    const k = this.keys(ref);
    const meta: SentenceMeta = { index: event.index, text: event.text, durationMs: event.audio.durationMs, ...tts };
    const [code, complete] = (await this.scripts.voxqLiveDeliver(
      k.state,
      k.log,
      this.options.maxLogEntries,
      this.runningTtlMs,
      event.index,
      JSON.stringify(event),
      JSON.stringify(meta),
      Date.now(),
    )) as [number, number];
    return { ended: code === -1, duplicate: code === 1, complete: complete === 1 };
  }

  /** The LLM finished: the reply has `total` sentences. `complete`: all of them are already in the log. */
  async setTotal(ref: TurnRef, total: number): Promise<{ ended: boolean; complete: boolean }> {
    const k = this.keys(ref);
    const code = await this.scripts.voxqLiveSetTotal(k.state, k.log, total, this.runningTtlMs, Date.now());
    return { ended: code === -1, complete: code === 1 };
  }

  /** Claims the turn's end for `status`: after this, no other end and no further event but the end's own. */
  /**
   * Claims the turn's end; true when `status` holds it. A `gated` end (a worker completing or
   * failing the turn) of a turn its producer has not confirmed yet is kept for accept() and not
   * claimed (false): a turn the caller was refused never writes an end or a message.
   */
  async claimEnd(ref: TurnRef, status: 'completed' | 'failed' | 'interrupted', detail: unknown = {}, options: { gated?: boolean } = {}): Promise<boolean> {
    const k = this.keys(ref);
    return (await this.scripts.voxqLiveClaimEnd(k.state, k.log, status, this.options.ttlMs, JSON.stringify(detail), options.gated ? '1' : '0')) === 1;
  }

  /** The producer's confirmation (see open): the end a worker reached meanwhile, if any, for the caller to claim now. */
  async accept(ref: TurnRef): Promise<{ status: string; detail: string } | undefined> {
    const [status, detail] = (await this.scripts.voxqLiveAccept(this.keys(ref).state)) as [string | null, string | null];
    return status ? { status, detail: detail ?? '{}' } : undefined;
  }

  /** Writes the end event once; the session's next unfinished turn, if any, may then run its LLM stage. */
  async writeEnd(ref: TurnRef, event: Extract<TurnLogEvent, { type: 'end' }>): Promise<{ written: boolean; nextTurnId: string | undefined }> {
    const k = this.keys(ref);
    const [written, next] = (await this.scripts.voxqLiveWriteEnd(k.state, k.log, k.sessionTurns, k.input, this.options.maxLogEntries, this.options.ttlMs, JSON.stringify(event), ref.turnId)) as [
      number,
      string | null | undefined,
    ];
    return { written: written === 1, nextTurnId: typeof next === 'string' ? next : undefined };
  }

  /** The sentences delivered so far, in order, and the highest chunk index a consumer read (-1: none). */
  async heardSoFar(ref: TurnRef): Promise<{ sentences: SentenceMeta[]; readIndex: number }> {
    const state = await this.redis.hgetall(this.keys(ref).state);
    const delivered = Number(state.next ?? 0);
    const sentences: SentenceMeta[] = [];
    for (let i = 0; i < delivered; i += 1) {
      const meta = state[`m:${i}`];
      if (meta) sentences.push(JSON.parse(meta) as SentenceMeta);
    }
    return { sentences, readIndex: state.read === undefined ? -1 : Number(state.read) };
  }

  /** A consumer read chunk `index` (readers read in order, so the highest one read is kept). */
  async markRead(ref: TurnRef, index: number): Promise<void> {
    await this.scripts.voxqLiveMarkRead(this.keys(ref).state, index);
  }

  /** Milestones reached, in ms after `createdAt`. */
  async timeline(ref: TurnRef, createdAt: Date): Promise<TurnTimeline> {
    const fields = Object.values(MILESTONES);
    const values = await this.redis.hmget(this.keys(ref).state, ...fields);
    const timeline: TurnTimeline = {};
    (Object.keys(MILESTONES) as Milestone[]).forEach((name, i) => {
      const at = values[i];
      if (at) timeline[name] = Math.max(0, Number(at) - createdAt.getTime());
    });
    return timeline;
  }

  /** Whether the turn's log exists (it does from enqueue until its TTL after the last write). */
  async hasLog(ref: TurnRef): Promise<boolean> {
    return (await this.redis.exists(this.keys(ref).log)) === 1;
  }

  /** Every event of the log after `afterId` ('0': from the start); null when the log does not exist. */
  async read(ref: TurnRef, afterId = '0'): Promise<{ id: string; event: TurnLogEvent }[] | null> {
    const key = this.keys(ref).log;
    const entries = await this.redis.xrange(key, afterId === '0' ? '-' : `(${afterId}`, '+');
    if (entries.length === 0 && (await this.redis.exists(key)) === 0) return null;
    return entries.flatMap(([id, fields]) => {
      const event = parseLogFields(fields);
      return event ? [{ id, event }] : [];
    });
  }

  /**
   * How many of the session's unfinished turns were enqueued before this one. An earlier turn
   * whose live state is gone (expired, or lost with Redis) no longer holds the session up.
   */
  async earlierUnfinished(ref: TurnRef): Promise<number> {
    const k = this.keys(ref);
    const rank = await this.redis.zrank(k.sessionTurns, ref.turnId);
    if (rank === null || rank === 0) return 0;
    const earlier = await this.redis.zrange(k.sessionTurns, 0, rank - 1);
    const alive = await Promise.all(earlier.map((turnId) => this.redis.exists(turnKeys(this.options.prefix, ref.sessionId, turnId).state)));
    const gone = earlier.filter((_, i) => alive[i] === 0);
    if (gone.length > 0) await this.redis.zrem(k.sessionTurns, ...gone);
    return earlier.length - gone.length;
  }

  /** The session's unfinished turns, oldest first. */
  async sessionTurns(sessionId: string): Promise<string[]> {
    return this.redis.zrange(turnKeys(this.options.prefix, sessionId, '').sessionTurns, 0, -1);
  }

  private async put(ref: TurnRef, field: string, value: string, counter: string, counterValue: number, mark: string): Promise<string | null> {
    const k = this.keys(ref);
    const [ok, stored] = (await this.scripts.voxqLivePut(k.state, k.log, field, value, this.runningTtlMs, counter, counterValue, mark, Date.now())) as [number, string?];
    return ok === 1 && stored !== undefined ? stored : null;
  }
}

/** A stream entry's fields → its event (null for an entry that is not one). */
export function parseLogFields(fields: readonly string[]): TurnLogEvent | null {
  const i = fields.indexOf('e');
  const raw = i >= 0 ? fields[i + 1] : undefined;
  if (raw === undefined) return null;
  try {
    const parsed = turnLogEventSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
