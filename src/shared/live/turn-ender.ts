// The three ways a turn ends — completed, failed, interrupted — written once whichever process
// ends it: claim the end in the live state (the fence: no other end, and no event or record of
// any job after it), write the durable record (messages, turn status, joined reply audio), refresh
// the session's cached context, then write the end event and let the session's next turn run
// its LLM stage. The workers complete and fail turns; the SDK interrupts them (cancel).
import { stageJobId } from '../contracts/jobs.js';
import type { TurnLogEvent } from '../contracts/turn-event.js';
import { routeOf, STAGES, turnErrorSchema, type Turn, type TurnError } from '../contracts/turn.js';
import { joinChunks, type AudioChunk } from '../audio/join-chunks.js';
import type { Logger } from '../logger.js';
import type { AudioStore } from '../ports/audio-store.js';
import type { ChatMessage } from '../ports/llm-provider.js';
import type { Metrics } from '../ports/metrics.js';
import type { SessionManager } from '../ports/session-manager.js';
import type { TurnStore } from '../ports/turn-store.js';
import type { StageQueues } from '../queues.js';
import { contextContent } from '../store/session-rules.js';
import type { CancelPublisher } from './cancel-bus.js';
import { heardReply } from './heard.js';
import type { LiveTurns, TurnRef } from './live-turns.js';
import type { SessionContextCache } from './session-context.js';
import type { UnfinishedTurns } from './unfinished-turns.js';

export interface TurnEnderDeps {
  live: LiveTurns;
  context: SessionContextCache;
  turns: TurnStore;
  sessions: SessionManager;
  audio: AudioStore;
  queues: StageQueues;
  metrics: Metrics;
  log: Logger;
  /** The SDK's: tells every worker process to abort a cancelled turn's active jobs. */
  cancels?: CancelPublisher;
  unfinished: UnfinishedTurns;
}

/** The failure of a turn taken back because the caller was told it was not accepted. */
export const NOT_ACCEPTED = 'not_accepted';

export function notAccepted(message = 'the turn was not accepted: a store failed while it was enqueued, and the caller was told so'): TurnError {
  return { stage: 'enqueue', code: NOT_ACCEPTED, message };
}

export function replyAudioId(turnId: string): string {
  return `${turnId}.reply`;
}

/** What the user said, when it is known (their text, or the recorded transcript). */
function userMessageOf(turn: Turn): string | undefined {
  return turn.input.kind === 'text' ? turn.input.text : turn.stages.stt?.output.text;
}

export class TurnEnder {
  constructor(private readonly deps: TurnEnderDeps) {}

  /**
   * Completes the turn once every sentence is in its log (and, on audio-llm-tts, its transcript
   * is recorded); false when it is not ready or another end came first. Idempotent.
   */
  async complete(ref: TurnRef): Promise<boolean> {
    const { live, turns, sessions, metrics } = this.deps;
    const { turn } = await live.load(ref);
    const llm = turn?.stages.llm;
    if (!turn || !llm) return false;
    if (routeOf(turn) === 'audio-llm-tts' && !turn.stages.stt) return false;
    if (!(await live.claimEnd(ref, 'completed', {}, { gated: true }))) return false;

    const reply = await this.joinedReply(ref);
    const stored = await this.deps.audio.put(reply.chunk.bytes, { mimeType: reply.chunk.format.mimeType, audioId: replyAudioId(ref.turnId), turnId: ref.turnId });
    const timeline = await live.timeline(ref, turn.createdAt);
    const startedAt = new Date(turn.createdAt.getTime() + (timeline.firstSentenceMs ?? 0));
    const finishedAt = new Date(turn.createdAt.getTime() + (timeline.lastAudioMs ?? Date.now() - turn.createdAt.getTime()));
    const tts = {
      output: {
        audio: { audioId: stored.audioId, mimeType: stored.mimeType, sizeBytes: stored.sizeBytes, durationMs: reply.chunk.durationMs },
        format: reply.chunk.format,
        provider: reply.provider,
        model: reply.model,
      },
      timing: { enqueuedAt: startedAt, startedAt, finishedAt, queueWaitMs: 0, workMs: finishedAt.getTime() - startedAt.getTime(), attempts: reply.attempts },
    };
    // The stages' own jobs record them beside the live path; any not recorded yet is recorded here (first write wins).
    const records = { ...turn.stages, tts };
    await Promise.all(STAGES.map((stage) => (records[stage] ? turns.saveStage(ref.turnId, stage, records[stage]) : Promise.resolve(false))));
    const userMessage = userMessageOf(turn) ?? '';
    await sessions.addInteraction({
      sessionId: turn.sessionId,
      userMessage,
      assistantResponse: llm.output.text,
      audioDurationMs: reply.chunk.durationMs,
      voiceUsed: turn.voice,
      turnId: turn.turnId,
    });
    const completedAt = new Date();
    if (await turns.complete(ref.turnId, completedAt, timeline)) {
      metrics.increment('voxq.turns', 1, { outcome: 'completed' });
      metrics.timing('voxq.turn.duration', completedAt.getTime() - turn.createdAt.getTime());
      if (timeline.firstAudioMs !== undefined) metrics.timing('voxq.turn.time_to_first_audio', timeline.firstAudioMs);
      if (timeline.firstTokenMs !== undefined) metrics.timing('voxq.turn.time_to_first_token', timeline.firstTokenMs);
    }
    await this.remember(turn, [
      { role: 'user', content: userMessage },
      { role: 'assistant', content: llm.output.text },
    ]);
    await this.end(ref, { type: 'end', at: Date.now(), status: 'completed' });
    return true;
  }

  /** Fails the turn once, with a reason about the turn; the user's message alone goes to the history. */
  async fail(ref: TurnRef, reason: TurnError): Promise<boolean> {
    const { live, turns, sessions, metrics } = this.deps;
    if (!(await live.claimEnd(ref, 'failed', reason, { gated: true }))) return false;
    const loaded = await live.load(ref);
    // A failure claimed before (whose writing was cut short) keeps its own reason: the first failure is the turn's.
    const claimed = turnErrorSchema.safeParse(loaded.endDetail ? JSON.parse(loaded.endDetail) : undefined);
    const failure = claimed.success ? claimed.data : reason;
    const turn = loaded.turn ?? (await turns.get(ref.turnId));
    if (await turns.fail(ref.turnId, failure, new Date())) {
      metrics.increment('voxq.turns', 1, { outcome: 'failed', stage: failure.stage });
    }
    // A turn withdrawn as not accepted (its caller was told so) leaves no message, even when a
    // stage's failure arrives here after the withdrawal (it keeps the withdrawal's reason).
    const userMessage = turn && failure.code !== NOT_ACCEPTED ? userMessageOf(turn) : undefined;
    if (turn && userMessage) {
      await sessions.addInteraction({ sessionId: turn.sessionId, userMessage, assistantResponse: '', turnId: turn.turnId });
      await this.remember(turn, [{ role: 'user', content: userMessage }]);
    }
    await this.end(ref, { type: 'end', at: Date.now(), status: 'failed', error: failure });
    return true;
  }

  /**
   * Cancels the turn (barge-in): nothing of it runs after this returns — active jobs on every
   * host are aborted, queued and delayed ones removed, late ones find the fence — and its reply is
   * kept only as far as it was heard. False when it had already ended.
   */
  async interrupt(ref: TurnRef, playedMs?: number): Promise<boolean> {
    const { live, turns, sessions, metrics } = this.deps;
    if (!(await live.claimEnd(ref, 'interrupted', { playedMs }))) return false;
    await this.deps.cancels?.publish(ref.turnId);
    await this.removeJobs(ref);
    const turn = (await live.load(ref)).turn ?? (await turns.get(ref.turnId));
    const { sentences, readIndex } = await live.heardSoFar(ref);
    const heard = heardReply(sentences, { playedMs, readIndex });
    const userMessage = turn ? userMessageOf(turn) : undefined;
    if (turn && userMessage) {
      await sessions.addInteraction({ sessionId: turn.sessionId, userMessage, assistantResponse: heard.text, interrupted: true, voiceUsed: turn.voice, turnId: turn.turnId });
      const messages: ChatMessage[] = [{ role: 'user', content: userMessage }];
      if (heard.text !== '') messages.push({ role: 'assistant', content: contextContent({ content: heard.text, metadata: { interrupted: true } }) });
      await this.remember(turn, messages);
    }
    const timeline = turn ? await live.timeline(ref, turn.createdAt) : undefined;
    const interruption = { heardText: heard.text, sentencesHeard: heard.sentencesHeard, ...(playedMs !== undefined ? { playedMs } : {}) };
    if (await turns.interrupt(ref.turnId, interruption, new Date(), timeline)) metrics.increment('voxq.turns', 1, { outcome: 'interrupted' });
    await this.end(ref, { type: 'end', at: Date.now(), status: 'interrupted', heardText: heard.text, ...(playedMs !== undefined ? { playedMs } : {}) });
    return true;
  }

  /**
   * After the producer confirmed the turn (LiveTurns.accept): an end a worker reached before
   * that — the whole turn ran while the database was still writing its record — is written now.
   * Idempotent.
   */
  async finishDue(ref: TurnRef, due: { status: string; detail: string } | undefined): Promise<void> {
    if (due?.status === 'completed') await this.complete(ref);
    else if (due?.status === 'failed') {
      const reason = turnErrorSchema.safeParse(JSON.parse(due.detail));
      await this.fail(ref, reason.success ? reason.data : { stage: 'enqueue', code: 'unknown', message: 'the failure was not recorded' });
    }
  }

  /**
   * Takes back a turn the SDK could not accept (one store took it, the other failed): fenced
   * like a cancel — active jobs aborted, queued ones removed, late ones refused — with nothing
   * written to the database and no message in the history. False when the turn had already
   * ended on its own (it ran: the caller may still accept it).
   */
  async withdraw(ref: TurnRef, reason: TurnError): Promise<boolean> {
    if (!(await this.deps.live.claimEnd(ref, 'failed', reason))) return false;
    await this.deps.cancels?.publish(ref.turnId);
    await this.removeJobs(ref);
    await this.end(ref, { type: 'end', at: Date.now(), status: 'failed', error: reason });
    return true;
  }

  /**
   * Finishes an ending that was claimed but never written (its writer died, or a store failed
   * half-way): the same ending again, each step idempotent. False when there is nothing to finish.
   */
  async resume(ref: TurnRef): Promise<boolean> {
    const { ended, endWritten, endDetail } = await this.deps.live.load(ref);
    if (!ended || endWritten) return false;
    const detail = endDetail ? (JSON.parse(endDetail) as Record<string, unknown>) : {};
    if (ended === 'completed') return this.complete(ref);
    if (ended === 'interrupted') return this.interrupt(ref, typeof detail.playedMs === 'number' ? detail.playedMs : undefined);
    // fail() takes the reason recorded with the claim.
    return this.fail(ref, { stage: 'enqueue', code: 'unknown', message: 'the failure was not recorded' });
  }

  /** The reply's sentence chunks from the log (or, over the inline bound, the audio store), joined. */
  private async joinedReply(ref: TurnRef): Promise<{ chunk: AudioChunk; provider: string; model: string; attempts: number }> {
    const events = (await this.deps.live.read(ref)) ?? [];
    const sentences = events.flatMap(({ event }) => (event.type === 'sentence' ? [event] : []));
    sentences.sort((a, b) => a.index - b.index);
    const chunks = await Promise.all(
      sentences.map(async ({ audio }) => ({
        bytes: audio.base64 !== undefined ? new Uint8Array(Buffer.from(audio.base64, 'base64')) : (await this.deps.audio.get(audio.audioId)).bytes,
        format: audio.format,
        durationMs: audio.durationMs,
      })),
    );
    const { sentences: metas } = await this.deps.live.heardSoFar(ref);
    const attempts = Math.max(1, ...metas.map((m) => m.attempts ?? 1));
    return { chunk: joinChunks(chunks), provider: metas[0]?.provider ?? 'unknown', model: metas[0]?.model ?? 'unknown', attempts };
  }

  private async remember(turn: Turn, messages: ChatMessage[]): Promise<void> {
    await this.deps.context.append(turn.sessionId, messages).catch((error: unknown) => this.deps.log.warn({ turnId: turn.turnId, err: error }, 'session context cache not updated'));
  }

  /** The end event; then the session's next turn, if its LLM job waits for this one, runs at once. */
  private async end(ref: TurnRef, event: Extract<TurnLogEvent, { type: 'end' }>): Promise<void> {
    const { nextTurnId } = await this.deps.live.writeEnd(ref, event);
    await this.deps.unfinished.remove(ref);
    if (nextTurnId === undefined) return;
    try {
      const job = await this.deps.queues.get('llm', ref.sessionId).getJob(stageJobId(nextTurnId, 'llm'));
      if (job && (await job.isDelayed())) await job.promote();
    } catch (error) {
      this.deps.log.debug({ turnId: nextTurnId, err: error }, 'next turn of the session not promoted; it runs at its recheck');
    }
  }

  /** A cancelled turn's jobs still waiting or delayed in their queues (active ones are aborted, late ones fenced). */
  private async removeJobs(ref: TurnRef): Promise<void> {
    const handed = await this.deps.live.sentencesHanded(ref);
    const ids: [ 'stt' | 'llm' | 'tts', string][] = [
      ['stt', stageJobId(ref.turnId, 'stt')],
      ['llm', stageJobId(ref.turnId, 'llm')],
      ['tts', stageJobId(ref.turnId, 'tts')],
      ...Array.from({ length: handed + 1 }, (_, i): ['tts', string] => ['tts', stageJobId(ref.turnId, 'tts', i)]),
    ];
    await Promise.all(ids.map(([stage, id]) => this.deps.queues.get(stage, ref.sessionId).remove(id).catch(() => 0)));
  }
}
