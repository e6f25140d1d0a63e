// The stream benchmark's side of its consumer process (bench/support/stream-consumer.ts): sends
// it turn ids and awaits what it saw of each turn, and asks for its MongoDB command counts.
import type { ChildScript } from './child-script.js';
import type { ConsumerMongoReport, ConsumerTurnReport } from './stream-consumer.js';

export class ConsumerProcess {
  private readonly turns = new Map<string, (report: ConsumerTurnReport) => void>();
  private readonly mongoWaiters: ((counts: Record<string, number>) => void)[] = [];
  private readonly ready: Promise<void>;

  constructor(
    private readonly script: ChildScript,
    private readonly name: string,
  ) {
    let onReady: () => void = () => undefined;
    this.ready = new Promise((resolve) => (onReady = resolve));
    script.onLine((line) => {
      let message: ConsumerTurnReport | ConsumerMongoReport | { type: 'ready' };
      try {
        message = JSON.parse(line) as ConsumerTurnReport | ConsumerMongoReport | { type: 'ready' };
      } catch {
        return;
      }
      if (message.type === 'ready') onReady();
      else if (message.type === 'turn') this.turns.get(message.turnId)?.(message);
      else if (message.type === 'mongo') this.mongoWaiters.shift()?.(message.counts);
    });
  }

  /** Resolves once the consumer is connected, or rejects when it exits first or takes too long. */
  async started(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        this.script.exited.then((code) => Promise.reject(new Error(`${this.name} exited (${code}) before it was ready`))),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Hands the consumer a turn to follow; resolves with what it saw once the turn's events end. */
  follow(turnId: string, timeoutMs: number): Promise<ConsumerTurnReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.turns.delete(turnId);
        reject(new Error(`${this.name}: turn ${turnId} did not end within ${timeoutMs} ms`));
      }, timeoutMs);
      this.turns.set(turnId, (report) => {
        clearTimeout(timer);
        this.turns.delete(turnId);
        resolve(report);
      });
      this.script.write(JSON.stringify({ turnId }));
    });
  }

  /** The MongoDB commands the consumer has sent so far, by name. */
  mongoCommands(): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      this.mongoWaiters.push(resolve);
      this.script.write(JSON.stringify({ cmd: 'mongo' }));
    });
  }

  stop(): Promise<number | string> {
    return this.script.stop();
  }
}
