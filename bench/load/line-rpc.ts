// Requests and replies as JSON lines between the load part and the processes it starts: the
// parent writes `{"id":N,"cmd":…}` to the child's stdin, the child prints `{"re":N,…}` (or
// `{"re":N,"error":…}`) on stdout, and `{"type":"ready"}` once it can take requests. Logs stay
// on stderr (pino), so stdout carries nothing else.
import { createInterface } from 'node:readline';
import type { ChildScript } from '../support/child-script.js';

export interface LineRequest {
  id: number;
  cmd: string;
  [field: string]: unknown;
}

type Reply = Record<string, unknown>;

/** The parent's side: one ChildScript, requests awaited by id. */
export class LineRpc {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private readonly isReady: Promise<void>;

  constructor(
    private readonly script: ChildScript,
    private readonly name: string,
  ) {
    let onReady: () => void = () => undefined;
    this.isReady = new Promise((resolve) => (onReady = resolve));
    script.onLine((line) => {
      let message: Reply;
      try {
        message = JSON.parse(line) as Reply;
      } catch {
        return;
      }
      if (message.type === 'ready') onReady();
      const re = message.re;
      if (typeof re !== 'number') return;
      const waiter = this.waiting.get(re);
      this.waiting.delete(re);
      if (typeof message.error === 'string') waiter?.reject(new Error(`${this.name}: ${message.error}`));
      else waiter?.resolve(message);
    });
    void script.exited.then((code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${this.name} exited (${code})`));
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.script.pid;
  }

  /** Resolves once the child printed ready; rejects when it exits first or takes longer than `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    await this.bounded(
      Promise.race([this.isReady, this.script.exited.then((code) => Promise.reject(new Error(`${this.name} exited (${code}) before it was ready`)))]),
      timeoutMs,
      'ready',
    );
  }

  request(cmd: string, fields: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    this.seq += 1;
    const id = this.seq;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.script.write(JSON.stringify({ ...fields, id, cmd }));
    return this.bounded(reply, timeoutMs, cmd).finally(() => this.waiting.delete(id));
  }

  /** SIGTERM (and stdin's end), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string> {
    return this.script.stop(graceMs);
  }

  private async bounded<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`)), timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The child's side: each stdin line is handed to `handle`, its answer printed with the request's
 * id; `onEnd` runs when stdin closes (the parent stopped or died).
 */
export function serveLines(handle: (request: LineRequest) => Reply | Promise<Reply>, onEnd: () => void): void {
  const print = (message: Reply) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let request: LineRequest;
    try {
      request = JSON.parse(line) as LineRequest;
    } catch {
      return;
    }
    Promise.resolve()
      .then(() => handle(request))
      .then(
      (reply) => print({ ...reply, re: request.id }),
      (error: unknown) => print({ re: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  lines.on('close', onEnd);
}

export function announceReady(): void {
  process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
}
