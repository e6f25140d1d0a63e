// Where a session's and its turns' live state sits in Redis. Every key of one session and its
// turns shares one hash tag, so multi-key scripts stay in one slot: `{<sessionId>}` in the
// unsharded layout (a prefix string), its shard's tag when sharded (a KeySpace:
// src/shared/shards/queue-shards.ts). Pub/sub channels are not keys.
import type { KeySpace } from '../shards/queue-shards.js';

export interface TurnKeys {
  /** The turn's event log: a stream (src/shared/live/turn-log.ts). */
  log: string;
  /** The turn's live state: a hash (snapshot, stage outputs, sentences, delivery cursor, end claim, milestones). */
  state: string;
  /** The user's audio while the turn runs (bounded), so STT reads no database. */
  input: string;
  /** The session's unfinished turns, scored by enqueue order (per-session order and cancel). */
  sessionTurns: string;
  /** The session's last messages as LLM context, refreshed when a turn ends. */
  sessionContext: string;
}

/** A prefix (the unsharded layout) or the queue shards' key space. */
export type LiveKeySpace = string | KeySpace;

export function sessionTag(space: LiveKeySpace, sessionId: string): string {
  return typeof space === 'string' ? `${space}:{${sessionId}}` : space.sessionTag(sessionId);
}

export function sessionKeys(prefix: LiveKeySpace, sessionId: string): Pick<TurnKeys, 'sessionTurns' | 'sessionContext'> & { info: string } {
  const tag = sessionTag(prefix, sessionId);
  return { sessionTurns: `${tag}:turns`, sessionContext: `${tag}:context`, info: `${tag}:session` };
}

export function turnKeys(prefix: LiveKeySpace, sessionId: string, turnId: string): TurnKeys {
  const tag = sessionTag(prefix, sessionId);
  return {
    log: `${tag}:turn:${turnId}:log`,
    state: `${tag}:turn:${turnId}:state`,
    input: `${tag}:turn:${turnId}:input`,
    ...sessionKeys(prefix, sessionId),
  };
}

/** Cancel messages to every worker process (src/shared/live/cancel-bus.ts). */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}
