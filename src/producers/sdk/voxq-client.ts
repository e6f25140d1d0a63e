// The SDK: what a voice assistant's own code calls. It validates input, stores audio in the
// database (turn-input.ts), writes the turn document with its route (turn-routing.ts), enqueues
// the first stages, and awaits the result from whichever process finishes the turn.
// Seed: IOrchestratorService.process_conversation.
import { context, type Context } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { newTurnId } from '../../shared/contracts/ids.js';
import { turnRequestSchema, type TurnRequest } from '../../shared/contracts/turn-request.js';
import type { Turn } from '../../shared/contracts/turn.js';
import { InputError, NotFoundError, VoxqError } from '../../shared/errors.js';
import type { probeAudio } from '../../shared/audio/probe.js';
import type { Session } from '../../shared/ports/session-manager.js';
import type { ConversationStatistics, StoredMessage } from '../../shared/ports/conversation-store.js';
import type { StageQueues } from '../../shared/queues.js';
import type { StoreSet } from '../../shared/store/store-set.js';
import { TurnEventSubscriber } from '../../shared/turn-events.js';
import { inputErrorFrom } from '../../shared/zod-error.js';
import { TurnWaiter } from './turn-waiter.js';
import { TurnFailedError, timingOf, type TurnResult } from './turn-result.js';
import { createLogger } from '../../shared/logger.js';
import { startTranscribeFolder, type TranscribeFolderRun } from '../batch/transcribe-folder.js';
import { firstStages, routeFor, STT_ROUTING, type AudioRouting } from './turn-routing.js';
import { storeAudioInput, textInput } from './turn-input.js';
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
  /** A connection the client may put in subscriber mode (it is used for nothing else). */
  subscriber: Redis;
  prefix: string;
  defaults: VoxqClientDefaults;
  /** How audio turns are routed (connect() derives it from VOXQ_LLM); default stt → llm → tts. */
  routing?: AudioRouting;
  /** Closes what the client owns beyond the parts above (connections, tracing). */
  onClose?: () => Promise<void>;
  /** ffprobe by default; injectable so tests of other parts need not spawn it. */
  probe?: typeof probeAudio;
  /** What transcribeFolder needs beyond the above (connect() fills it in). */
  batch?: { redisUrl: string; attempts: number; model: string; maxChunkBytes: number };
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
  /** Awaits the finished turn (any process may finish it). Rejects with TurnFailedError or TimeoutError. */
  result(options?: { timeoutMs?: number; includeAudio?: boolean }): Promise<TurnResult>;
  /** The turn document as stored now. */
  turn(): Promise<Turn>;
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
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: VoxqClientDeps) {
    this.waiter = new TurnWaiter(new TurnEventSubscriber(deps.subscriber, deps.prefix), deps.stores.turns);
  }

  /** Seed: create_session(user_id, metadata). */
  async createSession(userId: string, metadata: Record<string, unknown> = {}): Promise<Session> {
    if (typeof userId !== 'string' || userId.trim() === '') throw new InputError('invalid_user_id', 'userId must be a non-empty string');
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new InputError('invalid_metadata', 'metadata must be a plain object');
    }
    return this.deps.stores.sessions.createSession(userId, metadata);
  }

  async getSession(sessionId: string): Promise<Session> {
    const session = await this.deps.stores.sessions.getSession(sessionId);
    if (!session) throw new NotFoundError('session_not_found', `session ${sessionId} does not exist: create it with createSession()`);
    return session;
  }

  /** Starts a turn and returns at once; `result()` awaits it. */
  async enqueueTurn(request: TurnRequest, options: EnqueueOptions = {}): Promise<TurnHandle> {
    const trace = options.trace ?? context.active(); // read before the first await
    const parsed = turnRequestSchema.safeParse(request);
    if (!parsed.success) throw inputErrorFrom(parsed.error, 'turn request');
    const req = parsed.data;
    const session = await this.getSession(req.sessionId);
    const turnId = req.turnId ?? newTurnId();

    const existing = req.turnId ? await this.deps.stores.turns.get(turnId) : null;
    if (existing) {
      if (existing.sessionId !== session.sessionId) throw new InputError('turn_id_taken', `turn ${turnId} belongs to another session`);
      return this.handle(existing.turnId, existing.sessionId);
    }

    const intake = { audio: this.deps.stores.audio, probe: this.deps.probe };
    const input = req.audio ? await storeAudioInput(req.audio, turnId, intake) : textInput(req.text ?? '');
    const routing = this.deps.routing ?? STT_ROUTING;
    const route = routeFor(input, routing);
    const turn: Turn = {
      turnId,
      sessionId: session.sessionId,
      userId: session.userId,
      status: 'queued',
      input,
      route,
      voice: req.voice ?? this.deps.defaults.voice,
      language: req.language ?? this.deps.defaults.language,
      speed: req.speed ?? this.deps.defaults.speed,
      llm: req.llm ?? {},
      stages: {},
      createdAt: new Date(),
    };
    await this.deps.stores.turns.create(turn);
    for (const stage of firstStages(route, routing)) await this.deps.queues.add(stage, { turnId, sessionId: session.sessionId }, trace);
    return this.handle(turnId, session.sessionId);
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
    const turn = await this.deps.stores.turns.get(turnId);
    if (!turn) throw new NotFoundError('turn_not_found', `turn ${turnId} does not exist`);
    return turn;
  }

  /** Awaits any turn by id, from any process. */
  async waitForTurn(turnId: string, options: { timeoutMs?: number; includeAudio?: boolean; signal?: AbortSignal } = {}): Promise<TurnResult> {
    const turn = await this.waiter.wait(turnId, options.timeoutMs ?? this.deps.defaults.resultTimeoutMs, options.signal);
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
  }

  /** Seed: get_conversation_history(limit). Oldest first. */
  async history(sessionId: string, options: { limit?: number } = {}): Promise<StoredMessage[]> {
    await this.getSession(sessionId);
    return this.deps.stores.conversations.history(sessionId, options);
  }

  /** Seed: get_statistics. */
  async statistics(sessionId: string): Promise<ConversationStatistics> {
    await this.getSession(sessionId);
    return this.deps.stores.conversations.statistics(sessionId);
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
      { redisUrl: batch.redisUrl, prefix: this.deps.prefix, records, audio: this.deps.stores.audio, attempts: batch.attempts, log: createLogger('voxq-sdk', 'warn') },
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
      result: (options) => this.waitForTurn(turnId, options),
      turn: () => this.getTurn(turnId),
    };
  }
}
