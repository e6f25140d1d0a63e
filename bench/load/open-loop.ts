// Open-loop arrivals: turns started on a fixed schedule (rate r: one every 1/r s) whether or not
// earlier ones have finished, as independent users would; then completions per second over a
// steady window after a warm-up, and the latency of the turns that started in that window.
// A closed loop (start the next when one finishes) would slow its own arrivals as the system
// slows, and never show the backlog that builds past the ceiling.
import { percentile } from '../support/stats.js';

export interface OpenLoopOptions {
  ratePerS: number;
  /** Arrivals before the window: the queues and the JIT settle at this rate. */
  warmupMs: number;
  /** Completions are counted, and arrivals timed, in this window. */
  windowMs: number;
  /** After the last arrival, how long the turns still running are waited for. */
  drainMs: number;
  /**
   * Past this many turns in flight an arrival is turned away (counted as shed) rather than
   * started: bounds the backlog of a step well past the ceiling, so it drains in seconds.
   */
  maxInFlight: number;
}

export interface OpenLoopResult {
  offered_turns_per_s: number;
  /** Arrivals started in the window, per second (below the offer when the schedule fell behind or shed). */
  started_turns_per_s: number;
  completed_turns_per_s: number;
  /** Enqueue → result of the turns that started in the window and completed. */
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_samples: number;
  /** Every turn of the step that ended, completed or failed (the drain included). */
  ended_turns: number;
  failed_turns: number;
  shed_turns: number;
  max_in_flight: number;
  /** How late the schedule's arrivals were started, at worst (a busy event loop delays them). */
  max_schedule_lag_ms: number;
  drained: boolean;
  step_ms: number;
  first_error?: string;
}

interface Ended {
  startedAt: number;
  endedAt: number;
  ok: boolean;
}

/** Runs `turn` on the schedule; resolves once every started turn has ended or the drain time is up. */
export async function runOpenLoop(turn: () => Promise<void>, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { ratePerS, warmupMs, windowMs, maxInFlight } = options;
  if (!(ratePerS > 0)) throw new Error('the rate must be above 0');
  const intervalMs = 1000 / ratePerS;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + windowMs;
  const ended: Ended[] = [];
  const running = new Set<Promise<void>>();
  let shed = 0;
  let startedInWindow = 0;
  let maxRunning = 0;
  let maxLagMs = 0;
  let firstError: string | undefined;

  const launch = (scheduledAt: number, now: number) => {
    if (running.size >= maxInFlight) {
      shed += 1;
      return;
    }
    maxLagMs = Math.max(maxLagMs, now - scheduledAt);
    const startedAt = performance.now();
    if (startedAt >= windowStart && startedAt < windowEnd) startedInWindow += 1;
    const done: Promise<void> = turn().then(
      () => {
        ended.push({ startedAt, endedAt: performance.now(), ok: true });
      },
      (error: unknown) => {
        ended.push({ startedAt, endedAt: performance.now(), ok: false });
        firstError ??= error instanceof Error ? error.message : String(error);
      },
    );
    running.add(done);
    maxRunning = Math.max(maxRunning, running.size);
    void done.finally(() => running.delete(done));
  };

  // Every arrival that is due is started at each tick; the next tick is set for the next one due.
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      for (let at = start + next * intervalMs; at <= now && at < windowEnd; at = start + next * intervalMs) {
        launch(at, now);
        next += 1;
      }
      const due = start + next * intervalMs;
      if (due >= windowEnd) resolve();
      else setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  });

  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    (async () => {
      while (running.size > 0) await Promise.all([...running]);
      return true;
    })(),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.drainMs))),
  ]);
  clearTimeout(timer);

  const windowS = windowMs / 1000;
  const completedInWindow = ended.filter((e) => e.ok && e.endedAt >= windowStart && e.endedAt < windowEnd).length;
  const latencies = ended.filter((e) => e.ok && e.startedAt >= windowStart && e.startedAt < windowEnd).map((e) => e.endedAt - e.startedAt);
  return {
    offered_turns_per_s: ratePerS,
    started_turns_per_s: startedInWindow / windowS,
    completed_turns_per_s: completedInWindow / windowS,
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    latency_samples: latencies.length,
    ended_turns: ended.length,
    failed_turns: ended.filter((e) => !e.ok).length,
    shed_turns: shed,
    max_in_flight: maxRunning,
    max_schedule_lag_ms: maxLagMs,
    drained,
    step_ms: performance.now() - start,
    ...(firstError !== undefined ? { first_error: firstError } : {}),
  };
}
