// A worker process with paced fakes (paced-fakes.ts), for tests and the stream benchmark that
// need workers in processes of their own: `node --import tsx tests/support/paced-worker.ts`.
// Env: the usual REDIS_URL, MONGO_URL (unset: memory stores are not shared, so it must be set),
// VOXQ_PREFIX, VOXQ_MONGO_DB, VOXQ_STREAMING …; PACED_TIMINGS (JSON of PacedTimings), PACED_REPLY
// (the LLM's reply), PACED_STAGES (default stt,llm,tts), PACED_CONCURRENCY (default 4). Every
// provider call and every job start goes to the Redis list `<prefix>:paced-calls` as JSON.
// PACED_COUNT_MONGO=1: the MongoDB commands this process sends are counted by command and
// collection (`find turns`) into the Redis hash `<prefix>:paced-mongo` (every 100 ms and on
// SIGTERM), for the stream benchmark.
import { hostname } from 'node:os';
import { loadConfig } from '../../src/shared/config.js';
import type { StageName } from '../../src/shared/contracts/turn.js';
import { createLogger } from '../../src/shared/logger.js';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { PacedLlm, PacedStt, PacedTts, STREAM_BENCH_TIMINGS, type PacedTimings, type ProviderCall } from './paced-fakes.js';

export function pacedCallsKey(prefix: string): string {
  return `${prefix}:paced-calls`;
}

export function pacedMongoKey(prefix: string): string {
  return `${prefix}:paced-mongo`;
}

/** The URL with command monitoring on: a client made from it emits commandStarted for every command. */
function monitored(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('monitorCommands', 'true');
  return parsed.toString();
}

const config = loadConfig();
const log = createLogger('paced-worker', config.VOXQ_LOG_LEVEL);
const timings: PacedTimings = { ...STREAM_BENCH_TIMINGS, ...(process.env.PACED_TIMINGS ? (JSON.parse(process.env.PACED_TIMINGS) as Partial<PacedTimings>) : {}) };
const reply = process.env.PACED_REPLY;
const stages = (process.env.PACED_STAGES ?? 'stt,llm,tts').split(',') as StageName[];
const recorder = createRedis(config.REDIS_URL, 'producer', 'paced-worker-calls');
const key = pacedCallsKey(config.VOXQ_PREFIX);
const host = `${hostname()}:${process.pid}`;
const report = (call: ProviderCall | { event: 'job'; at: number; jobId: string }) => {
  recorder.rpush(key, JSON.stringify({ ...call, host })).catch(() => undefined);
};

if (!config.MONGO_URL) throw new Error('paced-worker needs MONGO_URL');
const countMongo = process.env.PACED_COUNT_MONGO === '1';
const stores = await openMongoStores(countMongo ? monitored(config.MONGO_URL) : config.MONGO_URL, config.VOXQ_MONGO_DB);
const mongoCommands = new Map<string, number>();
if (countMongo) {
  stores.client.on('commandStarted', (event) => {
    const target: unknown = event.command[event.commandName];
    const name = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
    mongoCommands.set(name, (mongoCommands.get(name) ?? 0) + 1);
  });
}
const flushMongoCommands = async (): Promise<void> => {
  if (mongoCommands.size === 0) return;
  const flush = recorder.multi();
  for (const [name, count] of mongoCommands) flush.hincrby(pacedMongoKey(config.VOXQ_PREFIX), name, count);
  mongoCommands.clear();
  await flush.exec();
};
const mongoFlusher = countMongo ? setInterval(() => void flushMongoCommands().catch(() => undefined), 100) : undefined;
const worker = startWorkerProcess({
  config,
  stages,
  concurrency: Number(process.env.PACED_CONCURRENCY ?? 4),
  stores,
  providers: {
    stt: new PacedStt(timings, report),
    llm: new PacedLlm(timings, report, reply ? { replies: () => reply } : {}),
    tts: new PacedTts(timings, report),
  },
  log,
});
for (const w of worker.workers) w.on('active', (job) => report({ event: 'job', at: Date.now(), jobId: job.id ?? '' }));
await Promise.all(worker.workers.map((w) => w.waitUntilReady()));
log.info({ stages }, 'paced worker ready');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(mongoFlusher);
  void worker
    .close()
    .then(() => flushMongoCommands().catch(() => undefined))
    .then(() => closeRedis(recorder))
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
