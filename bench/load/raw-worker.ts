// The raw chain's workers (bench/spine/raw-chain.ts) in a process of their own, for the load
// part's baseline with the same process layout as voxq on MongoDB: three BullMQ workers a → b → c
// whose processors only add the next hop's job, exactly as raw-chain.ts's do (same payload, job
// ids and options). Env: REDIS_URL, VOXQ_PREFIX (the BullMQ prefix), LOAD_CONCURRENCY. Line
// requests (line-rpc.ts): `commands`. SIGTERM or the end of stdin closes it.
// The stream part's floor (bench/support/raw-chain.ts) runs the same chain with RAW_DELAYS_MS
// ("a,b,c": each hop sleeps that long first, the fakes' delays) and RAW_DONE_STREAM (hop c then
// XADDs to `<RAW_DONE_STREAM>:<job id without its hop letter>`, where the bench reads it).
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { createLogger } from '../../src/shared/logger.js';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { commandCounts, countRedisCommands } from '../support/command-count.js';
import { RAW_PAYLOAD } from '../spine/raw-chain.js';
import { announceReady, serveLines } from './line-rpc.js';

countRedisCommands();
const log = createLogger('voxq-bench-raw-worker', process.env.VOXQ_LOG_LEVEL ?? 'warn');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.VOXQ_PREFIX ?? '';
if (prefix === '') throw new Error('VOXQ_PREFIX is required');
const concurrency = Number(process.env.LOAD_CONCURRENCY ?? 16);
const [delayA = 0, delayB = 0, delayC = 0] = (process.env.RAW_DELAYS_MS ?? '').split(',').filter(Boolean).map(Number);
const delays = { a: delayA, b: delayB, c: delayC };
const doneStream = process.env.RAW_DONE_STREAM;

const producer = createRedis(redisUrl, 'producer', 'voxq-bench-raw');
const blocking = createRedis(redisUrl, 'worker', 'voxq-bench-raw-worker');
const next = { a: 'b', b: 'c', c: undefined } as const;
const queues = { b: new Queue('b', { connection: producer, prefix }), c: new Queue('c', { connection: producer, prefix }) };
const workers = (['a', 'b', 'c'] as const).map((hop) => {
  const to = next[hop];
  const worker = new Worker(
    hop,
    async (job) => {
      if (delays[hop] > 0) await sleep(delays[hop]);
      const stem = (job.id ?? '').slice(0, -1);
      if (to) await queues[to].add('hop', RAW_PAYLOAD, { jobId: `${stem}${to}`, removeOnComplete: true, removeOnFail: true });
      else if (doneStream) await producer.multi().xadd(`${doneStream}:${stem}`, '*', 'done', '1').pexpire(`${doneStream}:${stem}`, 60_000).exec();
    },
    { connection: blocking, prefix, concurrency },
  );
  worker.on('error', (error) => log.warn({ err: error }, 'raw worker error'));
  return worker;
});
await Promise.all([...workers.map((w) => w.waitUntilReady()), queues.b.waitUntilReady(), queues.c.waitUntilReady()]);

let closing: Promise<void> | undefined;
const stop = () => {
  closing ??= (async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([queues.b.close(), queues.c.close()]);
    await Promise.all([closeRedis(producer), closeRedis(blocking)]);
  })().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
serveLines((request) => {
  if (request.cmd === 'commands') return { commands: Object.fromEntries(commandCounts()) };
  throw new Error(`unknown request ${request.cmd}`);
}, stop);
announceReady();
