// The SDK: what a voice assistant's own code calls. It validates input, stores audio in the
// database (turn-input.ts), writes the turn document with its route (turn-routing.ts), enqueues
// the first stages, and awaits the result from whichever process finishes the turn.
// Seed: IOrchestratorService.process_conversation.
import { context, type Context } from '@opentelemetry/api';
import { isCluster, type RedisClient, type RedisTarget } from '../../shared/redis.js';
import { turnRequestSchema, type TurnRequest } from '../../shared/contracts/turn-request.js';
import type { Turn } from '../../shared/contracts/turn.js';
import { InputError, NotFoundError, UnavailableError, VoxqError } from '../../shared/errors.js';
import { withOutageErrors } from '../../shared/infra-errors.js';
import type { probeAudio } from '../../shared/audio/probe.js';
import type { Session } from '../../shared/ports/session-manager.js';
import type { AudioFormat } from '../../shared/ports/audio.js';
import type { ConversationStatistics, StoredMessage } from '../../shared/ports/conversation-store.js';
import type { StageQueues } from '../../shared/queues.js';
import type { StoreSet } from '../../shared/store/store-set.js';
import { checkSessionId, checkTurnId, messageId } from '../../shared/contracts/ids.js';
import { heardReply } from '../../shared/live/heard.js';
import { checkSessionRequest } from '../../shared/contracts/session-request.js';
import { CancelPublisher } from '../../shared/live/cancel-bus.js';
import { sessionKeys } from '../../shared/live/live-keys.js';
import { LiveTurns, RUNNING_TTL_MS, type TurnRef } from '../../shared/live/live-turns.js';
import { SessionContextCache } from '../../shared/live/session-context.js';
import { TurnEnder } from '../../shared/live/turn-ender.js';
import { TurnLogReader, type LogFollower } from '../../shared/live/turn-log-reader.js';
import { UnfinishedTurns } from '../../shared/live/unfinished-turns.js';
import type { Metrics } from '../../shared/ports/metrics.js';
import { OtelMetrics } from '../../shared/telemetry/otel-metrics.js';
import { followTurnEvents, type FollowOptions, type TurnEvent } from './turn-events.js';
import { TurnIntake } from './turn-intake.js';
import { eraseSession } from '../../shared/live/session-erasure.js';
import { inputErrorFrom } from '../../shared/zod-error.js';
import { TurnWaiter } from './turn-waiter.js';
import { TurnFailedError, TurnInterruptedError, timingOf, type TurnResult } from './turn-result.js';
import { createLogger } from '../../shared/logger.js';
import { startTranscribeFolder, type TranscribeFolderRun } from '../batch/transcribe-folder.js';
import type { AudioRouting } from './turn-routing.js';
import type { TranscriptFormat } from '../batch/transcript-formats.js';

export interface EnqueueOptions {
  /**
   * The OpenTelemetry context the turn's trace continues (an HTTP request's span, say).
   * Default: the context active when enqueueTurn is called; none: the turn starts its own trace.
   */
  trace?: Context;
}

export interface VoxqClientDefaults {
  voice: string;
  language: string;
  speed: number;
  resultTimeoutMs: number;
}

export interface VoxqClientDeps {
  stores: StoreSet;
  queues: StageQueues;
  /** A connection the client blocks on to read turns' event logs (it is used for nothing else). */
  subscriber: RedisClient;
  /** Reads turn logs (default: a TurnLogReader on `subscriber`; on a Redis Cluster one per shard). */
  logReader?: LogFollower;
  /** How long finished turns' live state and logs stay in Redis (VOXQ_EVENT_LOG_TTL_MS; default ten minutes). */
  liveTtlMs?: number;
  /** Messages of LLM context kept per session (VOXQ_CONTEXT_MESSAGES; default 10). */
  contextMessages?: number;
  prefix: string;
  defaults: VoxqClientDefaults;
  /** How audio turns are routed (connect() derives it from VOXQ_LLM); default stt → llm → tts. */
  routing?: AudioRouting;
  /**
   * Where the turns this client ends count (a cancel; or a completion the workers reached before
   * enqueueTurn confirmed the turn): the API passes its own. Default: OpenTelemetry's global meter.
   */
  metrics?: Metrics;
  /** Closes what the client owns beyond the parts above (connections, tracing). */
  onClose?: () => Promise<void>;
  /** ffprobe by default; injectable so tests of other parts need not spawn it. */
  probe?: typeof probeAudio;
  /** What transcribeFolder needs beyond the above (connect() fills it in). */
  batch?: { redisUrl: RedisTarget; queueShards?: number; attempts: number; model: string; maxChunkBytes: number };
}

export interface TranscribeFolderRequest {
  input: string;
  out: string;
  /** Default all four: srt, vtt, json, txt. */
  formats?: readonly TranscriptFormat[];
  language?: string;
  maxChunkMs?: number;
  signal?: AbortSignal;
}

export interface TurnHandle {
  turnId: string;
  sessionId: string;
  /** Awaits the finished turn (any process may finish it). Rejects with TurnFailedError, TurnInterruptedError or TimeoutError. */
  result(options?: { timeoutMs?: number; includeAudio?: boolean }): Promise<TurnResult>;
  /**
   * The turn's events in order — transcript, reply text deltas, each sentence with its audio as
   * soon as it is synthesized, then the end — replayed from the start (or after `after`, an event
   * id) and followed live, from any process. Ends after the `end` event.
   */
  events(options?: FollowOptions): AsyncGenerator<TurnEvent>;
  /** Cancels this turn (barge-in); true when it was still running. See VoxqClient.cancelSession. */
  cancel(options?: CancelOptions): Promise<boolean>;
  /** The turn document as stored now. */
  turn(): Promise<Turn>;
}

export interface CancelOptions {
  /**
   * How much of the reply's audio the client played, in ms (chunks back to back): the stored
   * reply is cut at the last word played. Absent: the sentences a consumer read count as heard.
   */
  playedMs?: number;
}

export interface ConversationRequest {
  audio: Uint8Array;
  sessionId: string;
  userId?: string;
  voice?: string;
  language?: string;
  timeoutMs?: number;
}

/** The seed's process_conversation result. */
export interface ConversationResult {
  transcription: string;
  responseText: string;
  responseAudio: Uint8Array;
  audioFormat: TurnResult['replyAudio']['format'];
  timing: TurnResult['timing'];
  turnId: string;
}

export class VoxqClient {
  private readonly waiter: TurnWaiter;
  private readonly reader: LogFollower;
  private readonly live: LiveTurns;
  private readonly context: SessionContextCache;
  private readonly ender: TurnEnder;
  private readonly intake: TurnIntake;
  private readonly unfinished: UnfinishedTurns;
  private readonly redis: RedisClient;
  private readonly ttlMs: number;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: VoxqClientDeps) {
    this.redis = deps.queues.connection;
    this.ttlMs = deps.liveTtlMs ?? 600_000;
    const log = createLogger('voxq-sdk', 'warn');
    this.reader = deps.logReader ?? new TurnLogReader(deps.subscriber, this.redis, (error) => log.warn({ err: error }, 'reading turn events failed; retrying'));
    this.live = new LiveTurns(this.redis, { prefix: deps.queues.shards, ttlMs: this.ttlMs, maxLogEntries: 5000 });
    const unfinished = new UnfinishedTurns(this.redis, deps.prefix);
    this.unfinished = unfinished;
    this.context = new SessionContextCache(this.redis, { prefix: deps.queues.shards, ttlMs: RUNNING_TTL_MS, maxMessages: deps.contextMessages ?? 10 });
    this.ender = new TurnEnder({
      live: this.live,
      context: this.context,
      turns: deps.stores.turns,
      sessions: deps.stores.sessions,
      audio: deps.stores.audio,
      queues: deps.queues,
      metrics: deps.metrics ?? new OtelMetrics(),
      log,
      cancels: new CancelPublisher(this.redis, deps.prefix),
      unfinished,
    });
    this.waiter = new TurnWaiter(this.reader, this.live, deps.stores.turns);
    this.intake = new TurnIntake({
      stores: deps.stores,
      queues: deps.queues,
      live: this.live,
      unfinished,
      ender: this.ender,
      redis: this.redis,
      prefix: deps.prefix,
      routing: deps.routing,
      defaults: deps.defaults,
      probe: deps.probe,
    });
  }

  /**
   * Runs an SDK call, answering an outage with UnavailableError. A Redis Cluster that has lost
   * every node holds commands until one answers (there is no per-command limit), so a call made
   * while it is not ready is refused at once, as a single Redis's is after its retries.
   */
  private guarded<T>(call: () => Promise<T>): Promise<T> {
    if (isCluster(this.redis) && this.redis.status !== 'ready') {
      return Promise.reject(new UnavailableError('redis_unavailable', 'the Redis Cluster is not reachable (no node answers, or it is reconnecting); retry the call once it is back'));
    }
    return withOutageErrors(call);
  }

  /** Seed: create_session(user_id, metadata). */
  async createSession(userId: string, metadata: Record<string, unknown> = {}): Promise<Session> {
    return this.guarded(async () => {
      const checked = checkSessionRequest(userId, metadata);
      const session = await this.deps.stores.sessions.createSession(checked.userId, checked.metadata);
      await this.rememberSession(session.sessionId, session.userId);
      await this.context.fill(session.sessionId, []);
      return session;
    });
  }

  /** A session's owner, cached in Redis so enqueueing a turn reads no database. */
  private async rememberSession(sessionId: string, userId: string): Promise<void> {
    const key = sessionKeys(this.deps.queues.shards, sessionId).info;
    await this.redis.multi().hset(key, 'userId', userId).pexpire(key, 7 * 24 * 3600 * 1000).exec();
  }

  /** The session a turn is enqueued in: from the Redis cache, else the database (then cached). */
  private async sessionOf(sessionId: string): Promise<{ sessionId: string; userId: string }> {
    const userId = await this.redis.hget(sessionKeys(this.deps.queues.shards, sessionId).info, 'userId');
    if (userId !== null) return { sessionId, userId };
    const session = await this.getSession(sessionId);
    await this.rememberSession(session.sessionId, session.userId);
    return session;
  }

  async getSession(sessionId: string): Promise<Session> {
    return this.guarded(async () => {
      checkSessionId(sessionId);
      const session = await this.deps.stores.sessions.getSession(sessionId);
      if (!session) throw new NotFoundError('session_not_found', `session ${sessionId} does not exist: create it with createSession()`);
      return session;
    });
  }

  /**
   * Starts a turn and returns at once; `result()` awaits it, `events()` streams it. The turn is
   * accepted once both stores hold it (turn-intake.ts); the first stage starts as soon as Redis
   * has it. A `turnId` of the caller's is an idempotency key (same request: same turn; another
   * request: ConflictError `turn_id_conflict`).
   */
  async enqueueTurn(request: TurnRequest, options: EnqueueOptions = {}): Promise<TurnHandle> {
    return this.guarded(async () => {
      const trace = options.trace ?? context.active(); // read before the first await
      const parsed = turnRequestSchema.safeParse(request);
      if (!parsed.success) throw inputErrorFrom(parsed.error, 'turn request');
      const req = parsed.data;
      const session = await this.sessionOf(req.sessionId);
      const ref = await this.intake.accept(req, session, trace, req.bargeIn ? () => this.cancelSession(session.sessionId) : undefined);
      return this.handle(ref.turnId, ref.sessionId);
    });
  }

  /**
   * Seed: cancel_processing(session_id) — barge-in. Cancels every unfinished turn of the session:
   * within milliseconds nothing of them runs on any host (provider requests aborted, queued jobs
   * removed, late jobs fenced off), their logs end with `interrupted`, and each reply is stored
   * only as far as it was heard. True when something was cancelled; false when nothing was in
   * flight (safe to call any time).
   */
  async cancelSession(sessionId: string, options: CancelOptions = {}): Promise<boolean> {
    return this.guarded(async () => {
      checkSessionId(sessionId);
      const playedMs = checkPlayedMs(options.playedMs);
      await this.sessionOf(sessionId);
      let cancelled = false;
      for (const turnId of await this.live.sessionTurns(sessionId)) {
        if (await this.ender.interrupt({ turnId, sessionId }, playedMs)) cancelled = true;
      }
      return cancelled;
    });
  }

  /**
   * Deletes a person's data (Brazil's LGPD and every privacy law like it): the session, its turns,
   * messages, interactions, audio, event logs and live state, from every store; its turns in
   * flight are cancelled first. True when there was something to delete; idempotent.
   */
  async deleteSession(sessionId: string): Promise<boolean> {
    return this.guarded(async () => {
      checkSessionId(sessionId);
      return eraseSession(
        { stores: this.deps.stores, queues: this.deps.queues, redis: this.redis, prefix: this.deps.prefix, unfinished: this.unfinished, live: this.live, ender: this.ender },
        sessionId,
      );
    });
  }

  /** Cancels one turn (see cancelSession); true when it was still running. */
  async cancelTurn(ref: TurnRef, options: CancelOptions = {}): Promise<boolean> {
    return this.guarded(async () => {
      checkTurnId(ref.turnId);
      checkSessionId(ref.sessionId);
      return this.ender.interrupt(ref, checkPlayedMs(options.playedMs));
    });
  }

  /**
   * The user stopped listening to a turn's reply after `playedMs` of its audio. A turn still
   * running is cancelled there (as cancelTurn). A completed one — its audio was all synthesized
   * before the user stopped listening, the usual case with fast TTS — keeps only what was heard:
   * its stored reply is cut at the last word played and marked `interrupted` (removed when
   * nothing was heard), and the session's next turn sees it cut. True when something was cut or
   * cancelled; false when the whole reply had been played, or the turn failed or was interrupted.
   */
  async replyHeard(turnId: string, options: { playedMs: number }): Promise<boolean> {
    return this.guarded(async () => {
      checkTurnId(turnId);
      const playedMs = checkPlayedMs(options.playedMs);
      if (playedMs === undefined) throw new InputError('invalid_played_ms', 'playedMs is required: how much of the reply audio was played, in ms');
      const turn = await this.getTurn(turnId);
      const ref = { turnId, sessionId: turn.sessionId };
      if (turn.status === 'queued' || turn.status === 'running') return this.ender.interrupt(ref, playedMs);
      const reply = turn.stages.llm?.output.text;
      const audio = turn.stages.tts?.output.audio;
      if (turn.status !== 'completed' || reply === undefined || audio === undefined) return false;
      // The sentences' own durations while the turn's log lasts; after it, the reply as one piece.
      const live = (await this.live.heardSoFar(ref)).sentences;
      const sentences = live.length > 0 ? live : [{ index: 0, text: reply, durationMs: audio.durationMs }];
      if (playedMs >= sentences.reduce((total, s) => total + s.durationMs, 0)) return false;
      const heard = heardReply(sentences, { playedMs, readIndex: -1 });
      const cut = await this.deps.stores.conversations.cutMessage(messageId(turnId, 'assistant'), heard.text, { interrupted: true, playedMs });
      await this.context.drop(turn.sessionId);
      return cut;
    });
  }

  /** The events of any turn by id (see TurnHandle.events). */
  async *turnEvents(turnId: string, options: FollowOptions = {}): AsyncGenerator<TurnEvent> {
    checkTurnId(turnId);
    // Redis knows a recent turn's session; the record answers for older ones (and unknown ids: 404).
    const sessionId = (await this.unfinished.sessionOf(turnId)) ?? (await this.getTurn(turnId)).sessionId;
    yield* this.followEvents({ turnId, sessionId }, options);
  }

  /** One sentence's audio chunk of a turn: from its event log while it lasts, else the audio store. */
  async sentenceAudio(turnId: string, index: number): Promise<{ bytes: Uint8Array; format: AudioFormat; mimeType: string; durationMs: number }> {
    return this.guarded(async () => {
      checkTurnId(turnId);
      if (!Number.isInteger(index) || index < 0) throw new InputError('invalid_sentence_index', 'the sentence index must be a non-negative integer');
      const turn = await this.getTurn(turnId);
      const events = (await this.live.read({ turnId, sessionId: turn.sessionId })) ?? [];
      for (const { event } of events) {
        if (event.type !== 'sentence' || event.index !== index) continue;
        const { base64, ...meta } = event.audio;
        const bytes = base64 !== undefined ? new Uint8Array(Buffer.from(base64, 'base64')) : (await this.deps.stores.audio.get(meta.audioId)).bytes;
        return { bytes, format: meta.format, mimeType: meta.mimeType, durationMs: meta.durationMs };
      }
      throw new NotFoundError('sentence_not_found', `turn ${turnId} has no sentence ${index} in its event log (not synthesized yet, or the log expired: GET …/audio gives the whole reply)`);
    });
  }

  private followEvents(ref: TurnRef, options: FollowOptions): AsyncGenerator<TurnEvent> {
    return followTurnEvents({ reader: this.reader, live: this.live, audio: this.deps.stores.audio, turns: this.deps.stores.turns }, ref, options);
  }

  /** Seed: process_conversation(audio, session_id, user_id, voice, language), in one call. */
  async processConversation(request: ConversationRequest): Promise<ConversationResult> {
    const trace = context.active();
    if (request.userId !== undefined) {
      const session = await this.getSession(request.sessionId);
      if (session.userId !== request.userId) {
        throw new InputError('session_user_mismatch', `session ${request.sessionId} belongs to another user`);
      }
    }
    const handle = await this.enqueueTurn({
      sessionId: request.sessionId,
      audio: request.audio,
      ...(request.voice ? { voice: request.voice } : {}),
      ...(request.language ? { language: request.language } : {}),
    }, { trace });
    const result = await handle.result(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {});
    return {
      transcription: result.transcription ?? '',
      responseText: result.replyText,
      responseAudio: result.replyAudio.bytes,
      audioFormat: result.replyAudio.format,
      timing: result.timing,
      turnId: result.turnId,
    };
  }

  async getTurn(turnId: string): Promise<Turn> {
    return this.guarded(async () => {
      checkTurnId(turnId);
      const turn = await this.deps.stores.turns.get(turnId);
      if (!turn) throw new NotFoundError('turn_not_found', `turn ${turnId} does not exist`);
      return turn;
    });
  }

  /** Awaits any turn by id, from any process. */
  async waitForTurn(turnId: string, options: { timeoutMs?: number; includeAudio?: boolean; signal?: AbortSignal; sessionId?: string } = {}): Promise<TurnResult> {
    return this.guarded(async () => {
      checkTurnId(turnId);
      if (options.sessionId !== undefined) checkSessionId(options.sessionId);
      const sessionId = options.sessionId ?? (await this.unfinished.sessionOf(turnId)) ?? undefined;
      const turn = await this.waiter.wait(turnId, options.timeoutMs ?? this.deps.defaults.resultTimeoutMs, options.signal, sessionId);
      if (turn.status === 'interrupted') {
        throw new TurnInterruptedError(turn.turnId, turn.interruption?.heardText ?? '', turn.interruption?.playedMs);
      }
      if (turn.status === 'failed') {
        const error = turn.error ?? { stage: 'enqueue' as const, code: 'unknown', message: 'no reason recorded' };
        throw new TurnFailedError(turn.turnId, error.stage, error.code, error.message);
      }
      const tts = turn.stages.tts?.output;
      const llm = turn.stages.llm?.output;
      if (!tts || !llm) throw new VoxqError('turn_incomplete', `turn ${turnId} completed without a reply`);
      const bytes = options.includeAudio === false ? new Uint8Array() : (await this.deps.stores.audio.get(tts.audio.audioId)).bytes;
      return {
        turnId: turn.turnId,
        sessionId: turn.sessionId,
        transcription: turn.stages.stt?.output.text,
        replyText: llm.text,
        replyAudio: { bytes, format: tts.format, durationMs: tts.audio.durationMs },
        timing: timingOf(turn),
      };
    });
  }

  /** Seed: get_conversation_history(limit). Oldest first. */
  async history(sessionId: string, options: { limit?: number } = {}): Promise<StoredMessage[]> {
    return this.guarded(async () => {
      await this.getSession(sessionId);
      return this.deps.stores.conversations.history(sessionId, options);
    });
  }

  /** Seed: get_statistics. */
  async statistics(sessionId: string): Promise<ConversationStatistics> {
    return this.guarded(async () => {
      await this.getSession(sessionId);
      return this.deps.stores.conversations.statistics(sessionId);
    });
  }

  /**
   * Transcribes every audio file of a folder tree into `out` (as `voxq transcribe`), on the
   * workers running the stt stage. Listen for `discovered`, `file` and `progress`; await `done`.
   */
  transcribeFolder(request: TranscribeFolderRequest): TranscribeFolderRun {
    const { batch } = this.deps;
    const records = this.deps.stores.batches;
    if (!batch || !records) throw new VoxqError('batch_unavailable', 'batch transcription needs a client from connect() (Redis URL and batch record store)');
    return startTranscribeFolder(
      { redisUrl: batch.redisUrl, ...(batch.queueShards ? { queueShards: batch.queueShards } : {}), prefix: this.deps.prefix, records, audio: this.deps.stores.audio, attempts: batch.attempts, log: createLogger('voxq-sdk', 'warn') },
      {
        input: request.input,
        out: request.out,
        formats: request.formats ?? ['srt', 'vtt', 'json', 'txt'],
        language: request.language ?? this.deps.defaults.language,
        model: batch.model,
        maxChunkBytes: batch.maxChunkBytes,
        ...(request.maxChunkMs !== undefined ? { maxChunkMs: request.maxChunkMs } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      },
    );
  }

  /** Releases every connection the client holds; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.reader.close();
      await this.deps.queues.close();
      this.deps.subscriber.disconnect();
      await this.deps.onClose?.();
    })();
    return this.closing;
  }

  private handle(turnId: string, sessionId: string): TurnHandle {
    return {
      turnId,
      sessionId,
      result: (options) => this.waitForTurn(turnId, { ...options, sessionId }),
      events: (options) => this.followEvents({ turnId, sessionId }, options ?? {}),
      cancel: (options) => this.cancelTurn({ turnId, sessionId }, options),
      turn: () => this.getTurn(turnId),
    };
  }
}

function checkPlayedMs(playedMs: unknown): number | undefined {
  if (playedMs === undefined) return undefined;
  if (typeof playedMs !== 'number' || !Number.isFinite(playedMs) || playedMs < 0) {
    throw new InputError('invalid_played_ms', 'playedMs must be a non-negative number of milliseconds');
  }
  return playedMs;
}
