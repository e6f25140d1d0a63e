// Accepting a turn, atomically from the caller's view: an id accepted is a turn that will run.
// Both stores get it side by side — Redis its live state and first job (so the first stage
// starts at once), MongoDB its record and audio — and the call answers once both hold it. Until
// then workers may run the turn but not end it: an end they reach waits in its live state, and
// the producer writes it once it confirms (TurnEnder.accepted). When either write fails the turn
// is withdrawn instead — fenced like a cancel, so nothing of it runs after, and no end or message
// is ever written — and the caller gets the error. A caller-chosen `turnId` is an idempotency key: the same id with the same request gives
// the same turn (also when retried after a failure half-way), with a different request (session,
// text, audio, voice …) a `turn_id_conflict` error. Concurrent calls with one id are decided by one
// Redis SET NX, so exactly one request owns the id.
import { createHash } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import type { RedisClient } from '../../shared/redis.js';
import type { probeAudio } from '../../shared/audio/probe.js';
import { newTurnId } from '../../shared/contracts/ids.js';
import { isFinalStatus, turnErrorSchema, type Turn } from '../../shared/contracts/turn.js';
import type { turnRequestSchema } from '../../shared/contracts/turn-request.js';
import { ConflictError } from '../../shared/errors.js';
import { RUNNING_TTL_MS, type LiveTurns, type TurnRef } from '../../shared/live/live-turns.js';
import type { StageQueues } from '../../shared/queues.js';
import { NOT_ACCEPTED, notAccepted, type TurnEnder } from '../../shared/live/turn-ender.js';
import type { UnfinishedTurns } from '../../shared/live/unfinished-turns.js';
import type { StoreSet } from '../../shared/store/store-set.js';
import { checkAudioInput, textInput } from './turn-input.js';
import { firstStages, routeFor, STT_ROUTING, type AudioRouting } from './turn-routing.js';
import type { z } from 'zod';

type ParsedRequest = z.output<typeof turnRequestSchema>;

export interface TurnIntakeDeps {
  stores: StoreSet;
  queues: StageQueues;
  live: LiveTurns;
  unfinished: UnfinishedTurns;
  /** Withdraws a turn one store took when the other failed. */
  ender: TurnEnder;
  redis: RedisClient;
  prefix: string;
  routing?: AudioRouting | undefined;
  defaults: { voice: string; language: string; speed: number };
  probe?: typeof probeAudio | undefined;
}

/** What makes two requests the same turn: everything the turn is made of, audio by its hash. */
export function requestFingerprint(req: ParsedRequest, defaults: TurnIntakeDeps['defaults']): string {
  const canonical = JSON.stringify({
    sessionId: req.sessionId,
    text: req.text ?? null,
    audio: req.audio ? createHash('sha256').update(req.audio).digest('hex') : null,
    voice: req.voice ?? defaults.voice,
    language: req.language ?? defaults.language,
    speed: req.speed ?? defaults.speed,
    llm: req.llm ?? {},
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export class TurnIntake {
  constructor(private readonly deps: TurnIntakeDeps) {}

  private idKey(turnId: string): string {
    return `${this.deps.prefix}:turn-ids:${turnId}`;
  }

  /**
   * `beforeWrites` runs once the request is checked and is a new turn (not a retry of one
   * accepted), right before it is written: barge-in's cancel of the session's turn in flight, so
   * a refused request or a retry cancels nothing.
   */
  async accept(req: ParsedRequest, session: { sessionId: string; userId: string }, trace: Context, beforeWrites?: () => Promise<unknown>): Promise<TurnRef> {
    const fingerprint = requestFingerprint(req, this.deps.defaults);
    const turnId = req.turnId ?? newTurnId();
    const ref = { turnId, sessionId: session.sessionId };
    // The input is checked first: a refused request claims no id, so its corrected retry may reuse it.
    const checked = req.audio ? await checkAudioInput(req.audio, turnId, this.deps.probe) : undefined;
    const input = checked ? checked.input : textInput(req.text ?? '');
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
      requestHash: fingerprint,
      createdAt: new Date(),
    };
    if (req.turnId && (await this.alreadyAccepted(ref, turn))) return ref;
    await beforeWrites?.();

    const { audio, turns } = this.deps.stores;
    const durable = (async () => {
      if (checked && req.audio) await audio.put(req.audio, { mimeType: checked.input.audio.mimeType, audioId: checked.input.audio.audioId, turnId });
      await turns.create(turn);
    })();
    const live = (async () => {
      await this.deps.live.open(turn, req.audio, { pending: true });
      await this.deps.unfinished.add(ref, turn.createdAt.getTime());
      await this.deps.unfinished.rememberSession(ref, RUNNING_TTL_MS);
      for (const stage of firstStages(route, routing)) await this.deps.queues.add(stage, { turnId, sessionId: session.sessionId }, trace);
    })();
    const [stored, queued] = await Promise.allSettled([durable, live]);
    // Both stores hold it: the confirmation lets workers end the turn (and write its messages).
    const confirmed =
      stored.status === 'fulfilled' && queued.status === 'fulfilled'
        ? await this.deps.live.accept(ref).then((due) => ({ due }), (error: unknown) => ({ error }))
        : undefined;
    if (confirmed && 'due' in confirmed) {
      // An end they reached already is written here — or, when a store fails meanwhile, by the reconciler.
      await this.deps.ender.finishDue(ref, confirmed.due).catch(() => undefined);
      return ref;
    }
    const error: unknown = stored.status === 'rejected' ? stored.reason : queued.status === 'rejected' ? queued.reason : confirmed?.error;
    // One store took the turn and the other failed (or the confirmation did): take it back (it
    // cannot have ended: workers' ends wait for the confirmation), unless it was cancelled meanwhile.
    await this.withdraw(ref).catch(() => undefined);
    throw error;
  }

  /**
   * A retried caller-chosen id: true when that turn was accepted before (the same request, or a
   * ConflictError); a try that was withdrawn is forgotten, so this one starts afresh.
   */
  private async alreadyAccepted(ref: TurnRef, turn: Turn): Promise<boolean> {
    const fingerprint = turn.requestHash ?? '';
    const claimed = await this.deps.redis.set(this.idKey(ref.turnId), fingerprint, 'PX', RUNNING_TTL_MS, 'NX');
    if (claimed === null) this.checkSame(ref.turnId, await this.deps.redis.get(this.idKey(ref.turnId)), fingerprint);
    const stored = await this.deps.stores.turns.get(ref.turnId);
    if (stored) {
      this.checkSame(ref.turnId, stored.requestHash ?? null, fingerprint, stored.sessionId !== ref.sessionId);
      if (isFinalStatus(stored.status)) return true;
    }
    const { turn: live, ended, endDetail, pending } = await this.deps.live.load(ref);
    // Running, and confirmed by the try that wrote it: nothing to write again (a job re-added now could run a stage twice).
    if (ended === null) return stored !== null && live !== null && !pending;
    if (ended === 'failed' && endDetail !== null && turnErrorSchema.safeParse(JSON.parse(endDetail)).data?.code === NOT_ACCEPTED) {
      await this.deps.live.discard(ref);
      return false;
    }
    return stored !== null;
  }

  private checkSame(turnId: string, stored: string | null, fingerprint: string, otherSession = false): void {
    if (otherSession || (stored !== null && stored !== fingerprint)) {
      throw new ConflictError(
        'turn_id_conflict',
        `turn ${turnId} was already submitted with a different request (session, text, audio, voice, language, speed or llm): send the same request to retry it, or use a new turnId`,
      );
    }
  }

  /**
   * A turn not accepted: fenced so nothing of it runs (see TurnEnder.withdraw), its id free for
   * a retry. False when it had already ended on its own.
   */
  private async withdraw(ref: TurnRef): Promise<boolean> {
    const withdrawn = await this.deps.ender.withdraw(ref, notAccepted());
    if (withdrawn) await this.deps.redis.del(this.idKey(ref.turnId));
    return withdrawn;
  }
}
