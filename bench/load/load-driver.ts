// The load part's driver: the process that offers turns (bench/load/open-loop.ts) and awaits
// their results, as an application using the SDK would (`node --import tsx bench/load/load-driver.ts`).
// What it drives, from env:
//   LOAD_TARGET=raw    the raw BullMQ chain (bench/spine/raw-chain.ts): a turn adds hop a and
//                      waits for hop c's completion
//   LOAD_TARGET=voxq   voxq's SDK client (bench/spine/voxq-pipeline.ts): enqueueTurn with 10 KB
//                      of audio (the probe answered from one ffprobe run), then result()
//   LOAD_STORE=memory|mongo (voxq; mongo: MONGO_URL, VOXQ_MONGO_DB)
//   LOAD_WORKERS=here|elsewhere  the stage workers in this process, or in processes of their
//                      own (load-worker.ts, raw-worker.ts); memory stores need `here`
//   LOAD_CONCURRENCY (jobs per stage, workers here), LOAD_SESSIONS (voxq), REDIS_URL, VOXQ_PREFIX.
// Line requests (line-rpc.ts): `pilot` {inFlight, warmupMs, minMs, minTurns, maxMs} runs turns closed-loop
// (closed-loop.ts) and answers their rate; `step` {ratePerS, warmupMs, windowMs, drainMs,
// maxInFlight} runs one open-loop step and answers its figures; `commands` answers the Redis commands this process
// has sent, by name. The end of stdin closes everything (queues obliterated, keys and database dropped).
import { makeWav } from '../../tests/support/wav.js';
import { startTracing } from '../../src/shared/telemetry/tracing.js';
import { startRawChain } from '../spine/raw-chain.js';
import { startVoxqBench } from '../spine/voxq-pipeline.js';
import { commandCounts, countRedisCommands } from '../support/command-count.js';
import { benchLogger } from '../support/log.js';
import { announceReady, serveLines } from './line-rpc.js';
import { runClosedLoop } from './closed-loop.js';
import { runOpenLoop } from './open-loop.js';
import { SessionPool } from './session-pool.js';

interface Target {
  turn(): Promise<void>;
  /** Turns that shared a session with one still running (voxq). */
  sharedSessions(): number;
  close(): Promise<void>;
}

countRedisCommands();
const log = benchLogger('voxq-bench-load-driver');
const env = process.env;
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = env.VOXQ_PREFIX ?? '';
if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error('VOXQ_PREFIX is required (letters, digits, _ and -)');
const workersHere = env.LOAD_WORKERS !== 'elsewhere';
const concurrency = Number(env.LOAD_CONCURRENCY ?? 16);

async function startTarget(): Promise<Target> {
  if (env.LOAD_TARGET === 'raw') {
    const chain = await startRawChain({ redisUrl, prefix, concurrency, workers: workersHere });
    return { turn: () => chain.turn(), sharedSessions: () => 0, close: () => chain.close() };
  }
  if (env.LOAD_TARGET !== 'voxq') throw new Error('LOAD_TARGET must be raw or voxq');
  const mongoUrl = env.MONGO_URL;
  if (env.LOAD_STORE === 'mongo' && !mongoUrl) throw new Error('LOAD_STORE=mongo needs MONGO_URL');
  if (env.LOAD_STORE !== 'mongo' && !workersHere) throw new Error('memory stores live in one process: the workers must run here');
  const audio = makeWav({ durationMs: 320 }); // 10 KB of 16 kHz mono PCM, as the spine part's turns
  const bench = await startVoxqBench({
    redisUrl,
    prefix,
    concurrency,
    store: env.LOAD_STORE === 'mongo' ? { kind: 'mongo', url: mongoUrl ?? '', dbName: env.VOXQ_MONGO_DB ?? `${prefix}_db` } : { kind: 'memory' },
    probe: 'stub',
    audio,
    workers: workersHere,
    sessions: 1,
    // Untraced: no collector to send spans to (the spine part measures what tracing adds).
    tracing: startTracing('voxq-bench-load', { OTEL_SDK_DISABLED: 'true' }),
  });
  const ids: string[] = [];
  const count = Number(env.LOAD_SESSIONS ?? 500);
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => bench.client.createSession(`load-user-${i + j}`)));
    ids.push(...batch.map((s) => s.sessionId));
  }
  const pool = new SessionPool(ids);
  return {
    async turn() {
      const sessionId = pool.take();
      try {
        const handle = await bench.client.enqueueTurn({ sessionId, audio });
        await handle.result();
      } finally {
        pool.give(sessionId);
      }
    },
    sharedSessions: () => pool.shared,
    close: () => bench.close(),
  };
}

const target = await startTarget();
let closing: Promise<void> | undefined;
const close = () => {
  closing ??= target.close().then(
    () => process.exit(0),
    (error: unknown) => {
      log.error({ err: error }, 'closing the load driver failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', close);
process.on('SIGINT', close);

const number = (value: unknown, name: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`step: ${name} must be a positive number`);
  return value;
};

serveLines(async (request) => {
  if (request.cmd === 'commands') return { commands: Object.fromEntries(commandCounts()) };
  if (request.cmd === 'pilot') {
    return {
      ...(await runClosedLoop(() => target.turn(), {
        inFlight: number(request.inFlight, 'inFlight'),
        warmupMs: number(request.warmupMs, 'warmupMs'),
        minMs: number(request.minMs, 'minMs'),
        minTurns: number(request.minTurns, 'minTurns'),
        maxMs: number(request.maxMs, 'maxMs'),
      })),
    };
  }
  if (request.cmd !== 'step') throw new Error(`unknown request ${request.cmd}`);
  const sharedBefore = target.sharedSessions();
  const result = await runOpenLoop(() => target.turn(), {
    ratePerS: number(request.ratePerS, 'ratePerS'),
    warmupMs: number(request.warmupMs, 'warmupMs'),
    windowMs: number(request.windowMs, 'windowMs'),
    drainMs: number(request.drainMs, 'drainMs'),
    maxInFlight: number(request.maxInFlight, 'maxInFlight'),
  });
  if (result.first_error !== undefined) log.warn({ failed: result.failed_turns, error: result.first_error }, 'turns failed in the step');
  return { ...result, shared_session_turns: target.sharedSessions() - sharedBefore };
}, close);
announceReady();
