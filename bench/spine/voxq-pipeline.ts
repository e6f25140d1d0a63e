// voxq as a user runs it, in one process: the real worker process (stage runner, BullMQ workers,
// product tracing and metrics) with the fake providers at zero latency, and the real SDK client
// awaiting result(). Only the audio probe may be swapped for a pre-probed answer.
import { configSchema } from '../../src/shared/config.js';
import { probeAudio, type ProbedAudio } from '../../src/shared/audio/probe.js';
import type { Turn } from '../../src/shared/contracts/turn.js';
import { createLogger } from '../../src/shared/logger.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { DEFAULT_FAKE_TRANSCRIPT, FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { StageQueues } from '../../src/shared/queues.js';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { createMemoryStores, openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import type { StoreSet } from '../../src/shared/store/store-set.js';
import type { TracingHandle } from '../../src/shared/telemetry/tracing.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { VoxqClient, type TurnHandle } from '../../src/producers/sdk/voxq-client.js';
import { deleteKeys } from '../support/redis-space.js';

export type TurnInputKind = 'audio' | 'text';

export interface VoxqBenchOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  store: { kind: 'memory' } | { kind: 'mongo'; url: string; dbName: string };
  /** `stub`: answers with what ffprobe said once for this audio; `ffprobe`: the product's probe, one spawn per turn. */
  probe: 'stub' | 'ffprobe';
  /** The user's audio for audio turns. */
  audio: Uint8Array;
  /** false: client only, nothing takes work out (for measuring what queued turns cost). */
  workers: boolean;
  sessions: number;
  tracing: TracingHandle;
}

export interface VoxqBench {
  client: VoxqClient;
  /** Starts a turn in the next session (round robin). */
  enqueue(input: TurnInputKind): Promise<TurnHandle>;
  /** The turn document as the client's store holds it. */
  turn(turnId: string): Promise<Turn>;
  /** Closes workers, client, queues (obliterated), keys and stores; tracing is the caller's (the worker process shuts it down too). Idempotent. */
  close(): Promise<void>;
}

// What the fake STT hears in every audio turn: text and audio turns then carry the same words.
const USER_TEXT = DEFAULT_FAKE_TRANSCRIPT;

export async function startVoxqBench(options: VoxqBenchOptions): Promise<VoxqBench> {
  const { prefix, tracing } = options;
  const mongo = options.store.kind === 'mongo' ? options.store : undefined;
  const config = configSchema.parse({
    REDIS_URL: options.redisUrl,
    VOXQ_PREFIX: prefix,
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: 'silent',
    ...(mongo ? { MONGO_URL: mongo.url, VOXQ_MONGO_DB: mongo.dbName } : {}),
  });
  // Two views of one database, as a worker host and an SDK host would have; memory is shared.
  const workerStores: StoreSet = mongo ? await openMongoStores(mongo.url, mongo.dbName) : createMemoryStores();
  const clientStores: StoreSet = mongo ? await openMongoStores(mongo.url, mongo.dbName) : workerStores;

  let worker: WorkerProcess | undefined;
  if (options.workers) {
    worker = startWorkerProcess({
      config,
      stages: ['stt', 'llm', 'tts'],
      concurrency: options.concurrency,
      stores: mongo ? workerStores : { ...workerStores, close: () => Promise.resolve() },
      providers: { stt: new FakeSttProvider(), llm: new FakeLlmProvider(), tts: new FakeTtsProvider() },
      tracing,
      log: createLogger('voxq-bench-worker', 'silent'),
    });
    await Promise.all(worker.workers.map((w) => w.waitUntilReady()));
  }

  // The client as connect() builds it, with the probe injectable.
  const producer = createRedis(config.REDIS_URL, 'producer', 'voxq-sdk');
  const subscriber = createRedis(config.REDIS_URL, 'subscriber', 'voxq-sdk-events');
  const queues = new StageQueues({ connection: producer, prefix, attempts: config.VOXQ_STAGE_ATTEMPTS, telemetry: tracing.bullmq });
  let probe: typeof probeAudio | undefined;
  if (options.probe === 'stub') {
    const probed: ProbedAudio = await probeAudio(options.audio);
    probe = () => Promise.resolve({ ...probed });
  }
  const client = new VoxqClient({
    stores: clientStores,
    queues,
    subscriber,
    prefix,
    defaults: { voice: config.VOXQ_VOICE, language: config.VOXQ_LANGUAGE, speed: 1, resultTimeoutMs: 120_000 },
    onClose: () => closeRedis(producer),
    ...(probe ? { probe } : {}),
  });

  const sessionIds: string[] = [];
  for (let i = 0; i < options.sessions; i += 1) sessionIds.push((await client.createSession(`bench-user-${i}`)).sessionId);
  let next = 0;

  let closing: Promise<void> | undefined;
  return {
    client,
    enqueue(input) {
      const sessionId = sessionIds[next++ % sessionIds.length] as string;
      return client.enqueueTurn(input === 'audio' ? { sessionId, audio: options.audio } : { sessionId, text: USER_TEXT });
    },
    turn: (turnId) => client.getTurn(turnId),
    close: () =>
      (closing ??= (async () => {
        await worker?.close();
        await client.close();
        const admin = createRedis(config.REDIS_URL, 'producer', 'voxq-bench-cleanup');
        try {
          const cleanup = new StageQueues({ connection: admin, prefix, attempts: 1 });
          for (const queue of cleanup.all()) await queue.obliterate({ force: true });
          await cleanup.close();
          await deleteKeys(admin, `${prefix}:*`);
        } finally {
          await closeRedis(admin);
        }
        if (mongo) await (clientStores as MongoStores).db.dropDatabase();
        await clientStores.close();
        await workerStores.close();
      })()),
  };
}
