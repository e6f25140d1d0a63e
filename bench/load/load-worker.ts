// A voxq worker process for the load part: every stage (stt, llm, tts) with the fake providers
// at zero latency and their default replies, on MongoDB, in a process of its own so its memory
// is its own (`node --import tsx bench/load/load-worker.ts`). Env: REDIS_URL, MONGO_URL,
// VOXQ_PREFIX, VOXQ_MONGO_DB, LOAD_CONCURRENCY (jobs per stage). Stdin takes line requests
// (line-rpc.ts): `commands` answers the Redis commands it has sent, by name. SIGTERM or the end
// of stdin closes it as a worker process closes.
import { loadConfig, requireMongoUrl } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';
import { commandCounts, countRedisCommands } from '../support/command-count.js';
import { announceReady, serveLines } from './line-rpc.js';

countRedisCommands();
const config = loadConfig({ ...process.env, VOXQ_STT: 'fake', VOXQ_LLM: 'fake', VOXQ_TTS: 'fake' });
const log = createLogger('voxq-bench-load-worker', config.VOXQ_LOG_LEVEL);
const stores = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
const worker = startWorkerProcess({
  config,
  stages: ['stt', 'llm', 'tts'],
  concurrency: Number(process.env.LOAD_CONCURRENCY ?? 16),
  stores,
  providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider(), tts: new FakeTtsProvider() },
  log,
});
await Promise.all(worker.workers.map((w) => w.waitUntilReady()));

let closing: Promise<void> | undefined;
const stop = () => {
  closing ??= worker.close().then(
    () => process.exit(0),
    (error: unknown) => {
      log.error({ err: error }, 'closing the load worker failed');
      process.exit(1);
    },
  );
};
let signals = 0;
const onSignal = () => {
  signals += 1;
  if (signals > 1) process.exit(1); // a second signal forces
  stop();
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
serveLines((request) => {
  if (request.cmd === 'commands') return { commands: Object.fromEntries(commandCounts()) };
  throw new Error(`unknown request ${request.cmd}`);
}, stop);
announceReady();
