// One text turn through the SDK and a worker in this process, on the Redis of REDIS_URL (e.g. a
// rediss:// URL with a password; a private CA comes from NODE_EXTRA_CA_CERTS, as for any Node
// program), with in-memory stores. Prints {"reply": …} on stdout, or exits 1 with the error.
import { connect } from '../../src/producers/sdk/connect.js';
import { configSchema } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { createMemoryStores } from '../../src/shared/store/mongo-stores.js';
import { startWorkerProcess } from '../../src/workers/worker-process.js';

const config = configSchema.parse({ ...process.env, VOXQ_STT: 'fake', VOXQ_LLM: 'fake', VOXQ_TTS: 'fake', VOXQ_LOG_LEVEL: 'silent' });
const stores = createMemoryStores();
const worker = startWorkerProcess({ config, stages: ['stt', 'llm', 'tts'], concurrency: 2, stores: { ...stores, close: () => Promise.resolve() }, log: createLogger('redis-url-turn', 'silent') });
const client = await connect({ config, stores });
try {
  const { sessionId } = await client.createSession('u');
  const turn = await client.enqueueTurn({ sessionId, text: process.argv[2] ?? 'olá' });
  const result = await turn.result({ timeoutMs: 30_000 });
  process.stdout.write(`${JSON.stringify({ reply: result.replyText })}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await client.close();
  await worker.close();
}
