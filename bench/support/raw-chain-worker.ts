// The floor under the stream part's time to first audio: the same three hand-offs with nothing
// of voxq around them. Bare BullMQ workers for `stt`, `llm` and `tts` (no stores, no live state,
// no tracing), each sleeping the fakes' delay up to the first sentence's audio and adding the next
// job; the `tts` job XADDs to the turn's stream, which the bench reads from its own process.
// Env: REDIS_URL, RAW_PREFIX, RAW_DELAYS_MS ("stt,llm,tts"), RAW_CONCURRENCY.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { createRedis } from '../../src/shared/redis.js';
import { benchLogger } from './log.js';
import { rawAudioKey } from './raw-chain.js';

const log = benchLogger('voxq-bench-raw-chain');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.RAW_PREFIX ?? 'vraw';
const [sttMs, llmMs, ttsMs] = (process.env.RAW_DELAYS_MS ?? '100,450,120').split(',').map(Number) as [number, number, number];
const concurrency = Number(process.env.RAW_CONCURRENCY ?? '32');

const producer = createRedis(redisUrl, 'producer', 'raw-chain-producer');
const next = { llm: new Queue('llm', { connection: producer, prefix }), tts: new Queue('tts', { connection: producer, prefix }) };
const workers = [
  new Worker<{ turnId: string }>('stt', async (job) => {
    await sleep(sttMs);
    await next.llm.add('llm', job.data, { removeOnComplete: true });
  }, { connection: createRedis(redisUrl, 'worker', 'raw-chain-stt'), prefix, concurrency }),
  new Worker<{ turnId: string }>('llm', async (job) => {
    await sleep(llmMs);
    await next.tts.add('tts', job.data, { removeOnComplete: true });
  }, { connection: createRedis(redisUrl, 'worker', 'raw-chain-llm'), prefix, concurrency }),
  new Worker<{ turnId: string }>('tts', async (job) => {
    await sleep(ttsMs);
    const key = rawAudioKey(prefix, job.data.turnId);
    await producer.multi().xadd(key, '*', 'audio', '1').pexpire(key, 60_000).exec();
  }, { connection: createRedis(redisUrl, 'worker', 'raw-chain-tts'), prefix, concurrency }),
];
await Promise.all(workers.map((w) => w.waitUntilReady()));
log.info({ prefix, sttMs, llmMs, ttsMs }, 'raw chain ready');

const stop = () => {
  void Promise.all(workers.map((w) => w.close()))
    .then(() => Promise.all([next.llm.close(), next.tts.close()]))
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
