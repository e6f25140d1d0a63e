// The stream part's floor: the load part's raw chain (bench/load/raw-worker.ts: three bare BullMQ
// workers a → b → c) with the fakes' delays on its hops and its last hop announced on a stream,
// in processes of their own. Its overhead over those delays is what any BullMQ chain of three
// queues costs on this machine at that moment; voxq's own overhead is measured against it in the
// same run.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { LineRpc } from '../load/line-rpc.js';
import { RAW_PAYLOAD } from '../spine/raw-chain.js';
import { ChildScript } from './child-script.js';
import { deleteKeys } from './redis-space.js';

const RAW_WORKER = 'bench/load/raw-worker.ts';

export class RawChain {
  private readonly workers: LineRpc[];
  private readonly queue: Queue;
  private readonly reader: Redis;
  private readonly doneStream: string;

  constructor(
    private readonly options: { root: string; redisUrl: string; prefix: string; delaysMs: [number, number, number]; processes: number; concurrency: number; admin: Redis },
  ) {
    this.doneStream = `${options.prefix}:done`;
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('VOXQ_'))),
      OTEL_SDK_DISABLED: 'true',
      REDIS_URL: options.redisUrl,
      VOXQ_PREFIX: options.prefix,
      LOAD_CONCURRENCY: String(options.concurrency),
      RAW_DELAYS_MS: options.delaysMs.join(','),
      RAW_DONE_STREAM: this.doneStream,
    };
    this.workers = Array.from({ length: options.processes }, (_, i) => {
      const name = `raw-chain-${i + 1}`;
      return new LineRpc(new ChildScript(RAW_WORKER, { name, cwd: options.root, env }), name);
    });
    this.queue = new Queue('a', { connection: options.admin, prefix: options.prefix });
    this.reader = createRedis(options.redisUrl, 'worker', 'raw-chain-reader');
  }

  async started(timeoutMs: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready(timeoutMs)));
  }

  /** One turn: from the add of its first job to its end read here, in ms (Date.now() on both sides, as the variants). */
  async timedTurn(): Promise<number> {
    const turnId = randomUUID();
    const t0 = Date.now();
    await this.queue.add('hop', RAW_PAYLOAD, { jobId: `${turnId}a`, removeOnComplete: true, removeOnFail: true });
    const reply = await this.reader.xread('BLOCK', 30_000, 'STREAMS', `${this.doneStream}:${turnId}`, '0');
    if (!reply) throw new Error('raw chain: no end within 30 s');
    return Date.now() - t0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.queue.close();
    await closeRedis(this.reader);
    await deleteKeys(this.options.admin, `${this.options.prefix}:*`);
  }
}
