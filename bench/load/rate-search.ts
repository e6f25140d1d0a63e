// The ceiling of a pipeline under open-loop arrivals: offer a rate, double it while completed
// turns per second keep rising by at least `minGrowth` (5 %), stop at the first doubling that
// adds less (or when a step leaves turns running past its drain time: its backlog would be
// counted in the next step). On a shared machine one step can fall short by chance, so a
// doubling that adds too little is run once more before the search ends on it (the better of the
// two counts). The ceiling is the most completions per second any step reached.

export interface SearchStep {
  offered_turns_per_s: number;
  completed_turns_per_s: number;
  drained: boolean;
}

export interface SearchOptions {
  startRatePerS: number;
  /** 0.05: a doubling that adds less than 5 % completions ends the search. */
  minGrowth: number;
  maxSteps: number;
}

export interface SearchResult<T extends SearchStep> {
  maxTurnsPerS: number;
  steps: T[];
  /** Why it stopped: `flat` (the rule), `undrained`, or `max_steps`. */
  stoppedBy: 'flat' | 'undrained' | 'max_steps';
}

export async function searchCeiling<T extends SearchStep>(step: (ratePerS: number) => Promise<T>, options: SearchOptions): Promise<SearchResult<T>> {
  const steps: T[] = [];
  let stoppedBy: SearchResult<T>['stoppedBy'] = 'max_steps';
  let rate = options.startRatePerS;
  for (let i = 0; i < options.maxSteps; i += 1, rate *= 2) {
    const previous = steps.at(-1);
    const flat = (s: T) => previous !== undefined && s.completed_turns_per_s < previous.completed_turns_per_s * (1 + options.minGrowth);
    let result = await step(rate);
    steps.push(result);
    if (flat(result) && result.drained) {
      const again = await step(rate);
      steps.push(again);
      if (again.completed_turns_per_s > result.completed_turns_per_s || !again.drained) result = again;
    }
    if (flat(result)) {
      stoppedBy = 'flat';
      break;
    }
    if (!result.drained) {
      stoppedBy = 'undrained';
      break;
    }
  }
  return { maxTurnsPerS: Math.max(...steps.map((s) => s.completed_turns_per_s)), steps, stoppedBy };
}
