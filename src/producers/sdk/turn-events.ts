// A turn's events as a consumer reads them, from any process: the event log replayed from the
// start (or after the last id the consumer saw) and then followed live, until the end. A
// sentence's audio comes as bytes. Reading a sentence's chunk counts it as heard (for a cancel
// without `playedMs`). When the log has expired, the finished turn's record stands in for it.
import type { LoggedEvent, TurnLogEvent } from '../../shared/contracts/turn-event.js';
import type { Turn } from '../../shared/contracts/turn.js';
import { NotFoundError } from '../../shared/errors.js';
import type { LiveTurns, TurnRef } from '../../shared/live/live-turns.js';
import type { LogFollower } from '../../shared/live/turn-log-reader.js';
import type { AudioStore } from '../../shared/ports/audio-store.js';
import type { AudioFormat } from '../../shared/ports/audio.js';
import type { TurnStore } from '../../shared/ports/turn-store.js';

type Plain<T extends TurnLogEvent['type']> = Extract<TurnLogEvent, { type: T }>;

/** A sentence of the reply with its audio. */
export interface SentenceEvent {
  id: string;
  type: 'sentence';
  at: number;
  index: number;
  text: string;
  audio: { bytes: Uint8Array; format: AudioFormat; mimeType: string; durationMs: number; audioId: string };
}

/** What `turn.events()` yields; `id` resumes (`events({ after: id })`). */
export type TurnEvent = ({ id: string } & Exclude<TurnLogEvent, Plain<'sentence'>>) | SentenceEvent;

export interface FollowOptions {
  /** Resume after this event id (default: from the start). */
  after?: string;
  signal?: AbortSignal;
}

export interface TurnEventSources {
  reader: LogFollower;
  live: LiveTurns;
  audio: AudioStore;
  turns: TurnStore;
}

async function toTurnEvent({ id, event }: LoggedEvent, audio: AudioStore): Promise<TurnEvent> {
  if (event.type !== 'sentence') return { id, ...event };
  const { base64, ...meta } = event.audio;
  const bytes = base64 !== undefined ? new Uint8Array(Buffer.from(base64, 'base64')) : (await audio.get(meta.audioId)).bytes;
  return { id, type: 'sentence', at: event.at, index: event.index, text: event.text, audio: { bytes, format: meta.format, mimeType: meta.mimeType, durationMs: meta.durationMs, audioId: meta.audioId } };
}

/** The events a finished turn's record implies, once its log is gone. */
export async function eventsFromRecord(turn: Turn, audio: AudioStore): Promise<TurnEvent[]> {
  const at = (turn.completedAt ?? turn.createdAt).getTime();
  const events: TurnEvent[] = [];
  const stt = turn.stages.stt?.output;
  if (stt) events.push({ id: 'record-1', type: 'transcript', at, text: stt.text, language: stt.language });
  const llm = turn.stages.llm?.output;
  if (llm && turn.status === 'completed') events.push({ id: 'record-2', type: 'text', at, delta: llm.text });
  const tts = turn.stages.tts?.output;
  if (tts && llm && turn.status === 'completed') {
    const { bytes } = await audio.get(tts.audio.audioId);
    events.push({ id: 'record-3', type: 'sentence', at, index: 0, text: llm.text, audio: { bytes, format: tts.format, mimeType: tts.audio.mimeType, durationMs: tts.audio.durationMs, audioId: tts.audio.audioId } });
  }
  if (turn.status === 'completed' || turn.status === 'failed' || turn.status === 'interrupted') {
    events.push({
      id: 'record-4',
      type: 'end',
      at,
      status: turn.status,
      ...(turn.error ? { error: turn.error } : {}),
      ...(turn.interruption ? { heardText: turn.interruption.heardText } : {}),
      ...(turn.interruption?.playedMs !== undefined ? { playedMs: turn.interruption.playedMs } : {}),
    });
  }
  return events;
}

/** The turn's events in order, replayed then followed, ending with its `end` event. */
export async function* followTurnEvents(sources: TurnEventSources, ref: TurnRef, options: FollowOptions = {}): AsyncGenerator<TurnEvent> {
  const { reader, live, audio, turns } = sources;
  options.signal?.throwIfAborted();
  const key = live.keys(ref).log;
  const pending: LoggedEvent[] = [];
  let wake: (() => void) | undefined;
  const unfollow = reader.follow(key, options.after ?? '0', (events) => {
    pending.push(...events);
    wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // No log at all: it expired (or Redis lost it) — the record answers.
    if (!(await live.hasLog(ref))) {
      const turn = await turns.get(ref.turnId);
      if (!turn) throw new NotFoundError('turn_not_found', `turn ${ref.turnId} does not exist`);
      for (const event of await eventsFromRecord(turn, audio)) yield event;
      return;
    }
    for (;;) {
      while (pending.length > 0) {
        const next = pending.shift();
        if (!next) break;
        const event = await toTurnEvent(next, audio);
        if (event.type === 'sentence') live.markRead(ref, event.index).catch(() => undefined);
        yield event;
        if (event.type === 'end') return;
      }
      options.signal?.throwIfAborted();
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unfollow();
    options.signal?.removeEventListener('abort', onAbort);
  }
}
