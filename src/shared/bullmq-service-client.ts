// The ServiceClient port on BullMQ (seed: ICommunicationManager). A call checks its input
// against the service's schema (nothing is enqueued when it is wrong), puts the request in the
// call's Redis hash (call-store.ts), adds a `call` job carrying only the call's id to the stage's
// queue, and awaits it through QueueEvents. voxq's stage workers run it through the stage runner
// (retries, tracing, metrics, GPU lease) without any turn: nothing is written to MongoDB. Health
// is the queue's live workers, read from Redis's client list (each voxq worker names itself
// `${hostname}:${pid}`).
import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { Queue, type QueueEvents, type Telemetry } from 'bullmq';
import { MAX_TURN_AUDIO_MS } from './audio/audio-limits.js';
import { MAX_AUDIO_BYTES, probeAudio } from './audio/probe.js';
import {
  SERVICE_CALL_INPUT_SCHEMAS,
  SERVICE_CALL_JOB_NAME,
  type ServiceCallFailure,
  type ServiceCallInputs,
  type ServiceCallJobData,
  type ServiceCallOutputs,
  type ServiceCallRequests,
  type ServiceCallStoredOutputs,
} from './contracts/service-calls.js';
import { STAGES, type StageName } from './contracts/turn.js';
import { InputError, TimeoutError, VoxqError } from './errors.js';
import { openQueueEvents } from './queue-events.js';
import { STAGE_BACKOFF_TYPE } from './queues.js';
import type { ServiceCallOptions, ServiceClient, ServiceHealth } from './ports/service-client.js';
import { closeRedis, createRedis, quietOnOutage, type RedisClient } from './redis.js';
import { CallStore } from './service-calls/call-store.js';
import { inputErrorFrom } from './zod-error.js';

export { SERVICE_CALL_JOB_NAME } from './contracts/service-calls.js';

/** The seed's `timeout=30.0`. */
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface BullmqServiceClientOptions {
  /** A Redis (or Redis Cluster) connection, shared and not closed by the client (QueueEvents get their own); or `redisUrl`. */
  connection?: RedisClient;
  /** The client opens (and closes) its own connection to this Redis (REDIS_URL). */
  redisUrl?: string;
  /** The workers' queue prefix (VOXQ_PREFIX; default `voxq`). Sharded queues: the shard's (QueueShards.queuePrefix). */
  prefix?: string;
  /** The BullMQ queue of a service (default: its stage name; sharded queues: QueueShards.queueName(stage, shard)). */
  queueName?: (service: StageName) => string;
  /** Attempts per call for retryable provider errors (VOXQ_STAGE_ATTEMPTS; default 4). */
  attempts?: number;
  /** Filled into stt and tts calls that leave them out (VOXQ_LANGUAGE, VOXQ_VOICE; default pt-BR, pf_dora). */
  language?: string;
  voice?: string;
  /** bullmq-otel telemetry (a TracingHandle's `bullmq`): the call's job joins the caller's trace. */
  telemetry?: Telemetry | undefined;
  /** How STT audio is checked before it is enqueued (default: as a turn's, ffprobe). */
  probe?: typeof probeAudio;
}

/** Calls voxq's stage workers as services (stt, llm, tts) and reports their health, over BullMQ. */
export class BullmqServiceClient implements ServiceClient {
  private readonly connection: RedisClient;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;
  private readonly calls: CallStore;
  private readonly queues = new Map<StageName, Queue>();
  private readonly queueEvents = new Map<StageName, Promise<QueueEvents>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BullmqServiceClientOptions) {
    if (options.connection) {
      this.connection = options.connection;
      this.ownsConnection = false;
    } else if (options.redisUrl) {
      this.connection = createRedis(options.redisUrl, 'producer', 'voxq-service-client');
      this.ownsConnection = true;
    } else {
      throw new InputError('invalid_input', 'BullmqServiceClient needs a Redis `connection` or a `redisUrl`');
    }
    this.prefix = options.prefix ?? 'voxq';
    this.calls = new CallStore(this.connection, this.prefix);
  }

  /**
   * Runs one stage's work on a worker: `call('stt', { audio })` → transcript, `call('llm',
   * { prompt | messages, systemPrompt, temperature, maxTokens })` → reply, `call('tts', { text,
   * voice, language })` → audio. Bad input rejects with InputError before anything is enqueued; a
   * provider's failure (after the stage's retries) with ServiceCallError carrying its `code` and
   * `retryable`; no answer within `timeoutMs` with TimeoutError `service_timeout`, and the call
   * is withdrawn (a job no worker has taken yet does not run).
   */
  async call<S extends StageName>(service: S, input: ServiceCallInputs[S], options: ServiceCallOptions = {}): Promise<ServiceCallOutputs[S]> {
    const caller = options.trace ?? context.active(); // carried past the awaits below by hand
    this.assertOpen();
    if (!(STAGES as readonly string[]).includes(service)) {
      throw new InputError('unknown_service', `unknown service ${JSON.stringify(String(service))}: voxq's services are ${STAGES.join(', ')}`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InputError('invalid_input', `timeoutMs must be a positive number of ms, got ${String(timeoutMs)}`);
    const { request, audio } = await this.requestFor(service, input);

    const queue = this.queue(service);
    const events = await this.events(service);
    const callId = `call_${randomUUID()}`;
    await this.calls.putRequest(callId, request, audio);
    const data: ServiceCallJobData = { callId };
    const job = await context
      .with(caller, () =>
        queue.add(SERVICE_CALL_JOB_NAME, data, {
          jobId: callId,
          attempts: this.options.attempts ?? 4,
          backoff: { type: STAGE_BACKOFF_TYPE },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 24 * 3600 },
        }),
      )
      .catch(async (error: unknown) => {
        await this.calls.delete(callId).catch(() => undefined); // not enqueued: its request goes too
        throw error;
      });
    // BullMQ rejects a timed-out wait and a failed job alike (a plain Error): our own timer,
    // armed before BullMQ's, tells them apart.
    let timedOut = false;
    const timer = setTimeout(() => (timedOut = true), timeoutMs);
    try {
      await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      if (this.closing) throw new VoxqError('service_client_closed', `call to ${service} ended: the service client was closed`, { cause: error });
      if (timedOut) {
        // A job no worker has taken is removed; one running finishes, and its answer expires unread.
        const withdrawn = await job.remove().then(
          () => true,
          () => false,
        );
        await this.calls.delete(callId);
        const what = withdrawn ? 'the call was withdrawn' : 'a worker is still on it; its answer will be dropped';
        throw new TimeoutError('service_timeout', `service ${service} did not answer within ${timeoutMs}ms (${what})`, { cause: error });
      }
      const result = await this.calls.getResult(service, callId);
      await this.calls.delete(callId);
      const failedReason = error instanceof Error ? error.message : String(error);
      const failure: ServiceCallFailure =
        result.state === 'failed' ? result.failure : { code: 'service_failed', message: failedReason, retryable: false };
      throw new ServiceCallError(service, callId, failure, error);
    } finally {
      clearTimeout(timer);
    }
    const result = await this.calls.getResult(service, callId);
    await this.calls.delete(callId);
    if (result.state !== 'done') {
      throw new ServiceCallError(service, callId, { code: 'service_answer_missing', message: `the ${service} worker finished call ${callId} but its answer is gone`, retryable: true });
    }
    return outputOf(service, result.output, result.audio);
  }

  /** Live workers of the service's queue and the hosts they run on. */
  async health(service: StageName): Promise<ServiceHealth> {
    const workers = await this.queue(service).getWorkers();
    const hosts = new Set<string>();
    for (const worker of workers) {
      const host = hostOfWorker(worker.rawname, this.prefix, this.queueNameOf(service));
      if (host !== undefined) hosts.add(host);
    }
    return { service, healthy: workers.length > 0, workers: workers.length, hosts: [...hosts].sort() };
  }

  /** Closes the queues and QueueEvents this client made (an injected connection stays open); idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const events = await Promise.allSettled([...this.queueEvents.values()]);
      await Promise.all(events.flatMap((e) => (e.status === 'fulfilled' ? [e.value.close()] : [])));
      await Promise.all([...this.queues.values()].map((q) => q.close()));
      if (this.ownsConnection) await closeRedis(this.connection);
    })();
    return this.closing;
  }

  /** The input checked against the service's schema, defaults filled; STT audio checked as a turn's is. */
  private async requestFor<S extends StageName>(service: S, input: ServiceCallInputs[S]): Promise<{ request: ServiceCallRequests[S]; audio?: Uint8Array }> {
    const parsed = SERVICE_CALL_INPUT_SCHEMAS[service].safeParse(input);
    if (!parsed.success) throw inputErrorFrom(parsed.error, `${service} call input`);
    const language = this.options.language ?? 'pt-BR';
    if (service === 'stt') {
      const { audio, ...rest } = parsed.data as ServiceCallInputs['stt'];
      if (audio.byteLength > MAX_AUDIO_BYTES) {
        throw new InputError('audio_too_large', `the audio is ${(audio.byteLength / 1048576).toFixed(1)} MB; the limit is ${MAX_AUDIO_BYTES / 1048576} MB per call`);
      }
      const probed = await (this.options.probe ?? probeAudio)(audio, { maxDurationMs: MAX_TURN_AUDIO_MS });
      const request: ServiceCallRequests['stt'] = { language: rest.language ?? language, mimeType: probed.mimeType, sizeBytes: audio.byteLength, durationMs: probed.durationMs };
      return { request: request as ServiceCallRequests[S], audio };
    }
    if (service === 'llm') {
      const { prompt, messages, ...overrides } = parsed.data as ServiceCallInputs['llm'];
      const conversation = messages ?? [{ role: 'user' as const, content: prompt ?? '' }];
      const last = conversation.at(-1);
      const request: ServiceCallRequests['llm'] = { prompt: last?.content.trim() ?? '', history: conversation.slice(0, -1), ...overrides };
      return { request: request as ServiceCallRequests[S] };
    }
    const tts = parsed.data as ServiceCallInputs['tts'];
    const request: ServiceCallRequests['tts'] = { text: tts.text.trim(), voice: tts.voice ?? this.options.voice ?? 'pf_dora', language: tts.language ?? language, speed: tts.speed ?? 1 };
    return { request: request as ServiceCallRequests[S] };
  }

  private queueNameOf(service: StageName): string {
    return this.options.queueName?.(service) ?? service;
  }

  private queue(service: StageName): Queue {
    this.assertOpen();
    let queue = this.queues.get(service);
    if (!queue) {
      const { telemetry } = this.options;
      queue = quietOnOutage(new Queue(this.queueNameOf(service), { connection: this.connection, prefix: this.prefix, ...(telemetry ? { telemetry } : {}) }));
      this.queues.set(service, queue);
    }
    return queue;
  }

  private events(service: StageName): Promise<QueueEvents> {
    this.assertOpen();
    let events = this.queueEvents.get(service);
    if (!events) {
      events = this.openEvents(service);
      this.queueEvents.set(service, events);
      // A failed open is retried by the next call.
      events.catch(() => this.queueEvents.delete(service));
    }
    return events;
  }

  private async openEvents(service: StageName): Promise<QueueEvents> {
    // A caller's wait times out while the events connection reconnects.
    return openQueueEvents(this.queue(service), this.connection, this.prefix);
  }

  private assertOpen(): void {
    if (this.closing) throw new VoxqError('service_client_closed', 'the service client is closed');
  }
}

/** The stored answer as the caller gets it: TTS audio as bytes beside its format. */
function outputOf<S extends StageName>(service: S, stored: ServiceCallStoredOutputs[S], audio: Buffer | undefined): ServiceCallOutputs[S] {
  if (service !== 'tts') return stored as unknown as ServiceCallOutputs[S];
  const { format, durationMs, provider, model } = stored as ServiceCallStoredOutputs['tts'];
  const bytes = new Uint8Array(audio ?? Buffer.alloc(0));
  const output: ServiceCallOutputs['tts'] = { audio: { bytes, format, durationMs }, provider, model };
  return output as ServiceCallOutputs[S];
}

/**
 * A service call failed for good: `code` is the provider's (`provider_rate_limited`,
 * `provider_server`, `provider_auth` …) or voxq's; `retryable` says whether calling again later
 * could help; `failedReason` is the worker's message.
 */
export class ServiceCallError extends VoxqError {
  override readonly name = 'ServiceCallError';
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly failedReason: string;
  constructor(
    readonly service: StageName,
    readonly callId: string,
    failure: ServiceCallFailure,
    cause?: unknown,
  ) {
    super(failure.code, `service ${service} failed call ${callId}: ${failure.message}`, { cause });
    this.retryable = failure.retryable;
    this.provider = failure.provider;
    this.retryAfterMs = failure.retryAfterMs;
    this.failedReason = failure.message;
  }
}

/**
 * The host in a worker's Redis client name. BullMQ names a worker's connection
 * `${prefix}:${base64(queue)}:w:${workerName}` and voxq workers are named `${hostname}:${pid}`;
 * a worker named otherwise gives its whole name, an unnamed one nothing.
 */
export function hostOfWorker(rawClientName: string | undefined, prefix: string, queueName: string): string | undefined {
  const named = `${prefix}:${Buffer.from(queueName).toString('base64')}:w:`;
  if (!rawClientName?.startsWith(named)) return undefined;
  const workerName = rawClientName.slice(named.length);
  const pidAt = workerName.lastIndexOf(':');
  if (pidAt > 0 && /^\d+$/.test(workerName.slice(pidAt + 1))) return workerName.slice(0, pidAt);
  return workerName || undefined;
}
