// Where a turn's time goes, from its own document: the client's clock around enqueueTurn() and
// result(), and the stage runner's timestamps (job enqueued, work started, work finished).
// Segments chain without gaps: their means add up to the mean turn latency.
import type { StageName, Turn } from '../../src/shared/contracts/turn.js';
import { mean } from '../support/stats.js';

export interface TimedTurn {
  turn: Turn;
  /** Epoch ms (fractional) just before enqueueTurn(). */
  startMs: number;
  /** Epoch ms just after result() resolved. */
  endMs: number;
}

/** Segment name → mean ms. `sdk_enqueue`: request → first job created; `<stage>_queue_wait`: job created → worker starts it; `<stage>_work`: provider work; `<stage>_handoff`: record + event + next job created; `tts_finish`: record, messages, complete; `notify`: completed → the client has the result. */
export function breakdown(turns: readonly TimedTurn[]): Record<string, number> {
  const segments = new Map<string, number[]>();
  const add = (name: string, ms: number) => {
    const list = segments.get(name) ?? [];
    list.push(ms);
    segments.set(name, list);
  };
  for (const { turn, startMs, endMs } of turns) {
    const stages = (['stt', 'llm', 'tts'] as StageName[]).filter((s) => turn.stages[s] !== undefined);
    let cursor = startMs;
    let previous: StageName | undefined;
    for (const stage of stages) {
      const timing = turn.stages[stage]?.timing;
      if (!timing) continue;
      const enqueued = timing.enqueuedAt.getTime();
      add(previous ? `${previous}_handoff` : 'sdk_enqueue', enqueued - cursor);
      add(`${stage}_queue_wait`, timing.startedAt.getTime() - enqueued);
      add(`${stage}_work`, timing.finishedAt.getTime() - timing.startedAt.getTime());
      cursor = timing.finishedAt.getTime();
      previous = stage;
    }
    const completed = turn.completedAt?.getTime() ?? cursor;
    add(`${previous ?? 'sdk'}_finish`, completed - cursor);
    add('notify', endMs - completed);
    add('total', endMs - startMs);
  }
  return Object.fromEntries([...segments].map(([name, values]) => [name, mean(values)]));
}
