// How late a 25 ms timer fires in this process while it mostly waits: the machine's own
// scheduling noise (a shared machine's other work), beside figures that add up timer delays.
import { setTimeout as sleep } from 'node:timers/promises';

const INTERVAL_MS = 25;

export class TimerLag {
  private readonly lagsMs: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor() {
    this.loop = (async () => {
      while (this.running) {
        const started = performance.now();
        await sleep(INTERVAL_MS);
        this.lagsMs.push(performance.now() - started - INTERVAL_MS);
      }
    })();
  }

  /** Stops sampling; each sample's lateness in ms. Idempotent. */
  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return [...this.lagsMs];
  }
}
