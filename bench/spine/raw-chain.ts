// The baseline: three plain BullMQ queues a → b → c whose processors only add the next hop's
// job (256-byte payload, removeOnComplete), and a client that waits for the last hop through
// QueueEvents. What any three-stage BullMQ pipeline costs before voxq does anything.
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/shared/redis.js';

export const RAW_PAYLOAD_BYTES = 256;
const HOPS = ['a', 'b', 'c'] as const;
type Hop = (typeof HOPS)[number];

interface HopData {
  p: string;
}

/** Exactly RAW_PAYLOAD_BYTES once JSON-encoded: {"p":"xxx…"}. */
export const RAW_PAYLOAD: HopData = { p: 'x'.repeat(RAW_PAYLOAD_BYTES - '{"p":""}'.length) };

export interface RawChainOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  /** false: queues only, no workers (for measuring what queued jobs cost). */
  workers: boolean;
}

export interface RawChain {
  queue(hop: Hop): Queue<HopData>;
  /** Adds the first hop and resolves when the last hop's job has completed. */
  turn(): Promise<void>;
  /** All turns added together, then all awaited. */
  turns(count: number): Promise<void>;
  close(): Promise<void>;
}

const jobOptions = (id: string) => ({ jobId: id, removeOnComplete: true, removeOnFail: true });

export async function startRawChain(options: RawChainOptions): Promise<RawChain> {
  const { prefix } = options;
  const producer = createRedis(options.redisUrl, 'producer', 'voxq-bench-raw');
  const blocking = createRedis(options.redisUrl, 'worker', 'voxq-bench-raw-worker');
  const eventsConnection = createRedis(options.redisUrl, 'worker', 'voxq-bench-raw-events');
  const queues = Object.fromEntries(HOPS.map((hop) => [hop, new Queue<HopData>(hop, { connection: producer, prefix })])) as Record<
    Hop,
    Queue<HopData>
  >;
  const next: Record<Hop, Hop | undefined> = { a: 'b', b: 'c', c: undefined };
  const workers: Worker<HopData>[] = [];
  if (options.workers) {
    for (const hop of HOPS) {
      const to = next[hop];
      const worker = new Worker<HopData>(
        hop,
        async (job) => {
          if (to) await queues[to].add('hop', RAW_PAYLOAD, jobOptions(`${(job.id ?? '').slice(0, -1)}${to}`));
        },
        { connection: blocking, prefix, concurrency: options.concurrency },
      );
      worker.on('error', () => undefined);
      workers.push(worker);
    }
  }
  const events = new QueueEvents('c', { connection: eventsConnection, prefix });
  await Promise.all([...Object.values(queues).map((q) => q.waitUntilReady()), ...workers.map((w) => w.waitUntilReady()), events.waitUntilReady()]);

  // One listener per event kind, dispatching by job id (what waitUntilFinished does per job).
  const waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  events.on('completed', ({ jobId }) => {
    waiting.get(jobId)?.resolve();
    waiting.delete(jobId);
  });
  events.on('failed', ({ jobId, failedReason }) => {
    waiting.get(jobId)?.reject(new Error(`raw job ${jobId} failed: ${failedReason}`));
    waiting.delete(jobId);
  });
  let seq = 0;
  /** Listens for the last hop before the first is added, so its event cannot be missed. */
  const start = (): { add: () => Promise<unknown>; done: Promise<void> } => {
    seq += 1;
    const base = `r${seq}.`;
    const done = new Promise<void>((resolve, reject) => waiting.set(`${base}c`, { resolve, reject }));
    return { add: () => queues.a.add('hop', RAW_PAYLOAD, jobOptions(`${base}a`)), done };
  };

  let closing: Promise<void> | undefined;
  return {
    queue: (hop) => queues[hop],
    async turn() {
      const { add, done } = start();
      await add();
      await done;
    },
    async turns(count) {
      const started = Array.from({ length: count }, () => start());
      await Promise.all(started.map((s) => s.add()));
      await Promise.all(started.map((s) => s.done));
    },
    close: () =>
      (closing ??= (async () => {
        await Promise.all(workers.map((w) => w.close()));
        await events.close();
        for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
        await Promise.all(Object.values(queues).map((q) => q.close()));
        await Promise.all([producer, blocking, eventsConnection].map((r: Redis) => closeRedis(r)));
      })()),
  };
}
