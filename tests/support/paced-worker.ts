// A worker process with paced fakes (paced-fakes.ts), for tests and the stream benchmark that
// need workers in processes of their own: `node --import tsx tests/support/paced-worker.ts`.
// Env: the usual REDIS_URL (or VOXQ_REDIS_CLUSTER_NODES), MONGO_URL (unset: memory stores are not shared, so it must be set),
// VOXQ_PREFIX, VOXQ_MONGO_DB, VOXQ_STREAMING …; PACED_TIMINGS (JSON of PacedTimings), PACED_REPLY
// (the LLM's reply), PACED_STAGES (default stt,llm,tts), PACED_CONCURRENCY (default 4). Every
// provider call and every job start goes to the Redis list `<prefix>:paced-calls` as JSON.
// PACED_COUNT_MONGO=1: the MongoDB commands this process sends are counted by command and
// collection (`find turns`) into the Redis hash `<prefix>:paced-mongo` (every 100 ms and on
// SIGTERM), for the stream benchmark.
// PACED_GPU=<index>: pinned to that card of VOXQ_GPUS (simulated), as `voxq worker --gpu <index>`:
// each model's resident memory reserved at start, each job's working memory while it runs.
// PACED_FAULTS_KEY=<a Redis stream>: scripted provider failures for the fault suite
// (bench/faults). Every PACED_FAULTS_POLL_MS (default 200) the worker reads the entries added
// since it started; each entry `provider` (stt, llm, tts or all), `kind` (rate_limited: 429 with
// `retryAfterMs`; server: 5xx; timeout: a 408 answer; hang: no answer until the stage timeout
// aborts the call), `count` (calls of this process that fail, per provider) queues that many
// failures on the fakes (FakeScript.failNext; hangs on a counter of their own).
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../../src/shared/config.js';
import type { StageName } from '../../src/shared/contracts/turn.js';
import { pinProcessToGpu, resolveGpuSelector } from '../../src/shared/gpu/open-gpu-manager.js';
import type { PinnedGpu } from '../../src/shared/gpu/pinned-gpu.js';
import { createLogger } from '../../src/shared/logger.js';
import type { AudioInput, SynthesizedAudio } from '../../src/shared/ports/audio.js';
import type { GenerateOptions } from '../../src/shared/ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../../src/shared/ports/stt-provider.js';
import type { SynthesizeOptions } from '../../src/shared/ports/tts-provider.js';
import type { FakeScript } from '../../src/shared/providers/fake-script.js';
import { ProviderError } from '../../src/shared/providers/provider-error.js';
import { closeRedis, createRedis, redisTargetOf } from '../../src/shared/redis.js';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { openWorkerProcess } from '../../src/workers/worker-process.js';
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
const recorder = createRedis(redisTargetOf(config), 'producer', 'paced-worker-calls');
const key = pacedCallsKey(config.VOXQ_PREFIX);
const host = `${hostname()}:${process.pid}`;
const report = (call: ProviderCall | { event: 'job'; at: number; jobId: string }) => {
  const line = JSON.stringify({ ...call, host });
  // Kept in a list (read whole by benchmarks and checks) and announced on the channel of the same name (tests await it).
  recorder.multi().rpush(key, line).publish(key, line).exec().catch(() => undefined);
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

/** Calls that hang (no answer until the caller's signal aborts them: the stage timeout), one per call. */
class Hangs {
  pending = 0;

  async take(signal: AbortSignal | undefined, provider: string): Promise<void> {
    if (this.pending <= 0) return;
    this.pending -= 1;
    try {
      // Without a signal nothing would ever end the call: give up after a minute, as a provider's own timeout would.
      await delay(60_000, undefined, signal ? { signal } : undefined);
    } catch {
      throw new ProviderError(`${provider}: call aborted`, { kind: 'aborted', provider });
    }
    throw new ProviderError(`${provider}: no answer`, { kind: 'timeout', provider });
  }
}

const hangs = { stt: new Hangs(), llm: new Hangs(), tts: new Hangs() };

class FaultyStt extends PacedStt {
  override async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    await hangs.stt.take(options.signal, 'paced-stt');
    return super.transcribe(audio, options);
  }
}

class FaultyLlm extends PacedLlm {
  override async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    await hangs.llm.take(options.signal, 'paced-llm');
    yield* super.stream(prompt, options);
  }
}

class FaultyTts extends PacedTts {
  override async synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    await hangs.tts.take(options.signal, 'paced-tts');
    return super.synthesize(text, options);
  }
}

const providers = {
  stt: new FaultyStt(timings, report),
  llm: new FaultyLlm(timings, report, reply ? { replies: () => reply } : {}),
  tts: new FaultyTts(timings, report),
};
const scripts: Record<StageName, FakeScript> = { stt: providers.stt.script, llm: providers.llm.script, tts: providers.tts.script };
const FAULT_KINDS = new Set(['rate_limited', 'server', 'timeout', 'hang']);

/** Queues one fault entry's failures on this process's fakes. */
function armFaults(fields: Record<string, string>): void {
  const kind = fields.kind ?? '';
  const count = Math.max(0, Math.floor(Number(fields.count ?? 0)));
  const targets = (fields.provider === 'all' ? ['stt', 'llm', 'tts'] : [fields.provider]).filter((p): p is StageName => p === 'stt' || p === 'llm' || p === 'tts');
  if (!FAULT_KINDS.has(kind) || targets.length === 0 || count === 0) {
    log.warn({ fields }, 'paced fault entry ignored');
    return;
  }
  for (const target of targets) {
    if (kind === 'hang') {
      hangs[target].pending += count;
      continue;
    }
    const retryAfterMs = fields.retryAfterMs === undefined ? undefined : Number(fields.retryAfterMs);
    const failure = kind === 'rate_limited' ? { kind: 'rate_limited' as const, retryAfterMs } : { kind: kind as 'server' | 'timeout' };
    scripts[target].failNext(...Array.from({ length: count }, () => failure));
  }
  log.info({ kind, count, providers: targets }, 'paced faults armed');
}

const faultsKey = process.env.PACED_FAULTS_KEY;
let faultsSeen = `${Date.now()}-0`;
const pollFaults = async (): Promise<void> => {
  if (!faultsKey) return;
  const entries = await recorder.xrange(faultsKey, `(${faultsSeen}`, '+');
  for (const [id, flat] of entries) {
    faultsSeen = id;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] ?? ''] = flat[i + 1] ?? '';
    armFaults(fields);
  }
};
const faultPoller = faultsKey ? setInterval(() => void pollFaults().catch(() => undefined), Number(process.env.PACED_FAULTS_POLL_MS ?? 200)) : undefined;

let gpu: PinnedGpu | undefined;
if (process.env.PACED_GPU !== undefined) {
  const [card] = await resolveGpuSelector(config, process.env.PACED_GPU);
  if (!card) throw new Error(`PACED_GPU=${process.env.PACED_GPU}: no such card in VOXQ_GPUS`);
  const models = stages.map((stage) => ({ service: stage, model: providers[stage].info().model, provider: providers[stage].info().provider }));
  gpu = await pinProcessToGpu(config, card, models, { log });
}

const worker = await openWorkerProcess({
  config,
  stages,
  concurrency: Number(process.env.PACED_CONCURRENCY ?? 4),
  stores,
  providers,
  log,
  ...(gpu ? { gpu } : {}),
});
for (const w of worker.workers) w.on('active', (job) => report({ event: 'job', at: Date.now(), jobId: job.id ?? '' }));
await Promise.all(worker.workers.map((w) => w.waitUntilReady()));
log.info({ stages }, 'paced worker ready');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(mongoFlusher);
  clearInterval(faultPoller);
  log.info('paced worker stopping');
  void worker
    .close()
    .then(() => log.info('paced worker: workers closed'))
    .then(() => flushMongoCommands().catch(() => undefined))
    .then(() => closeRedis(recorder))
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
