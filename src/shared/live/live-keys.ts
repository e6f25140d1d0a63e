// Where a session's and its turns' live state sits in Redis. Every key of one session and its
// turns shares one hash tag, `{<sessionId>}`, so multi-key scripts stay in one slot on a Redis
// Cluster (the scale-out issue shards by it). Pub/sub channels are not keys.

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

export function sessionTag(prefix: string, sessionId: string): string {
  return `${prefix}:{${sessionId}}`;
}

export function sessionKeys(prefix: string, sessionId: string): Pick<TurnKeys, 'sessionTurns' | 'sessionContext'> & { info: string } {
  const tag = sessionTag(prefix, sessionId);
  return { sessionTurns: `${tag}:turns`, sessionContext: `${tag}:context`, info: `${tag}:session` };
}

export function turnKeys(prefix: string, sessionId: string, turnId: string): TurnKeys {
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
