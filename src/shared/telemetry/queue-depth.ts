// Queue depth per queue and state, as an observable gauge: read from Redis when metrics are
// collected (a Prometheus scrape), never on a timer. A sharded stage's queues (`stt.0`, `stt.1` …)
// are one `queue` (the stage) with a `shard` label, so a sum by queue is the stage's depth.
import type { Meter } from '@opentelemetry/api';
import type { Queue } from 'bullmq';

export const QUEUE_DEPTH_METRIC = 'voxq.queue.depth';
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/** Registers the gauge; the returned function stops observing. */
export function observeQueueDepth(meter: Meter, queues: readonly Queue[]): () => void {
  const gauge = meter.createObservableGauge(QUEUE_DEPTH_METRIC, { description: 'jobs in each voxq queue, by state (queue depth)' });
  const callback = async (result: { observe(value: number, attributes: Record<string, string>): void }) => {
    const counts = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_DEPTH_STATES).catch(() => undefined)));
    queues.forEach((queue, i) => {
      const byState = counts[i];
      if (!byState) return; // Redis unreachable: no sample rather than a false zero
      const labels = queueLabels(queue.name);
      for (const state of QUEUE_DEPTH_STATES) result.observe(byState[state] ?? 0, { ...labels, state });
    });
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/** `stt` → {queue: stt}; a shard's `stt.2` → {queue: stt, shard: 2}. */
export function queueLabels(name: string): { queue: string; shard?: string } {
  const sharded = /^(.+)\.(\d+)$/.exec(name);
  return sharded?.[1] && sharded[2] ? { queue: sharded[1], shard: sharded[2] } : { queue: name };
}
