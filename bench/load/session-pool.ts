// The sessions the load part's turns are spread over. Two turns of one session never run their
// LLM stage at once (src/workers/session-order.ts), so a turn takes a session with nothing in
// flight when there is one, and only when every session is busy (far past the ceiling) shares
// one, round robin.
export class SessionPool {
  private readonly free: string[];
  private readonly busy = new Map<string, number>();
  private next = 0;
  /** Turns that had to share a session with one still running. */
  shared = 0;

  constructor(private readonly sessionIds: readonly string[]) {
    if (sessionIds.length === 0) throw new Error('the session pool needs at least one session');
    this.free = [...sessionIds];
  }

  take(): string {
    const sessionId = this.free.shift() ?? this.sharedSession();
    this.busy.set(sessionId, (this.busy.get(sessionId) ?? 0) + 1);
    return sessionId;
  }

  private sharedSession(): string {
    this.shared += 1;
    return this.sessionIds[this.next++ % this.sessionIds.length] as string;
  }

  give(sessionId: string): void {
    const left = (this.busy.get(sessionId) ?? 1) - 1;
    if (left > 0) {
      this.busy.set(sessionId, left);
      return;
    }
    this.busy.delete(sessionId);
    this.free.push(sessionId);
  }
}
