// A closed-loop pilot: a fixed number of turns in flight, each replaced as it ends, to tell
// roughly where a pipeline's ceiling is before the open-loop search (and to warm it up): the
// search then starts well below it instead of spending steps on rates far from it.

export interface ClosedLoopOptions {
  inFlight: number;
  /** Turns that end before this are not counted (a fresh process's first turns are slow). */
  warmupMs: number;
  /** After the warm-up, runs at least this long and until `minTurns` have ended, but never past `maxMs`. */
  minMs: number;
  minTurns: number;
  maxMs: number;
}

export interface ClosedLoopResult {
  turns_per_s: number;
  ended_turns: number;
  failed_turns: number;
}

export async function runClosedLoop(turn: () => Promise<void>, options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const start = performance.now();
  const from = start + options.warmupMs;
  let ended = 0;
  let counted = 0;
  let failed = 0;
  let lastEnd = from;
  const enough = () => {
    const elapsed = performance.now() - from;
    return elapsed >= options.maxMs || (elapsed >= options.minMs && counted >= options.minTurns);
  };
  const lane = async () => {
    while (!enough()) {
      let ok = true;
      try {
        await turn();
      } catch {
        ok = false;
        failed += 1;
      }
      ended += 1;
      lastEnd = performance.now();
      if (ok && lastEnd >= from) counted += 1;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, lane));
  return { turns_per_s: counted / Math.max(0.001, (lastEnd - from) / 1000), ended_turns: ended, failed_turns: failed };
}
