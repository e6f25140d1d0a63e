// The stream part's floor (bench/support/raw-chain-worker.ts): the same three job hand-offs and
// one stream read, with the same fakes' delays, run by bare BullMQ workers in processes of their
// own. Its overhead over the fakes' delays is what any BullMQ chain of three queues costs on this
// machine at that moment; voxq's own overhead is measured against it in the same run.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { ChildScript } from './child-script.js';
import { deleteKeys } from './redis-space.js';

const WORKER_SCRIPT = 'bench/support/raw-chain-worker.ts';

/** Where the bench reads a raw turn's first audio. */
export function rawAudioKey(prefix: string, turnId: string): string {
  return `${prefix}:audio:${turnId}`;
}

export class RawChain {
  private readonly workers: ChildScript[];
  private readonly queue: Queue;
  private readonly reader: Redis;

  constructor(
    private readonly options: { root: string; redisUrl: string; prefix: string; delaysMs: [number, number, number]; processes: number; concurrency: number; admin: Redis },
  ) {
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('VOXQ_'))),
      OTEL_SDK_DISABLED: 'true',
      REDIS_URL: options.redisUrl,
      RAW_PREFIX: options.prefix,
      RAW_DELAYS_MS: options.delaysMs.join(','),
      RAW_CONCURRENCY: String(options.concurrency),
    };
    this.workers = Array.from({ length: options.processes }, (_, i) => new ChildScript(WORKER_SCRIPT, { name: `raw-chain-${i + 1}`, cwd: options.root, env }));
    this.queue = new Queue('stt', { connection: options.admin, prefix: options.prefix });
    this.reader = createRedis(options.redisUrl, 'worker', 'raw-chain-reader');
  }

  async started(timeoutMs: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitForLog('raw chain ready', timeoutMs)));
  }

  /** One turn: from the add of its first job to its audio read here, in ms (Date.now() on both sides, as the variants). */
  async timedTurn(): Promise<number> {
    const turnId = randomUUID();
    const t0 = Date.now();
    await this.queue.add('stt', { turnId }, { removeOnComplete: true });
    const reply = await this.reader.xread('BLOCK', 30_000, 'STREAMS', rawAudioKey(this.options.prefix, turnId), '0');
    if (!reply) throw new Error('raw chain: no audio within 30 s');
    return Date.now() - t0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.queue.close();
    await closeRedis(this.reader);
    await deleteKeys(this.options.admin, `${this.options.prefix}:*`);
  }
}
