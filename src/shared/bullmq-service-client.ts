// The ServiceClient port on BullMQ (seed: ICommunicationManager). Calling a service adds a job
// to its stage queue and awaits the result through QueueEvents; health is the queue's live
// workers, read from Redis's client list (each voxq worker names itself `${hostname}:${pid}`).
import { context } from '@opentelemetry/api';
import { Queue, type QueueEvents, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StageName } from './contracts/turn.js';
import { TimeoutError, VoxqError } from './errors.js';
import { openQueueEvents } from './queue-events.js';
import type { ServiceCallOptions, ServiceClient, ServiceHealth } from './ports/service-client.js';
import { quietOnOutage } from './redis.js';

/** The job name of a service call (stage jobs proper are added by StageQueues). */
export const SERVICE_CALL_JOB_NAME = 'call';

export interface BullmqServiceClientOptions {
  /** Shared, not closed by the client. QueueEvents get their own blocking connections. */
  connection: Redis;
  prefix: string;
  telemetry?: Telemetry | undefined;
}

export class BullmqServiceClient implements ServiceClient {
  private readonly queues = new Map<StageName, Queue>();
  private readonly queueEvents = new Map<StageName, Promise<QueueEvents>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BullmqServiceClientOptions) {}

  /**
   * Adds a `call` job to the service's queue and resolves with its return value. After
   * `timeoutMs` without an answer it rejects with a TimeoutError and leaves the job queued; a
   * job that failed rejects with a VoxqError `service_failed` carrying BullMQ's failedReason.
   */
  async call(service: StageName, data: unknown, options: ServiceCallOptions): Promise<unknown> {
    const { timeoutMs, jobId } = options;
    const caller = options.trace ?? context.active(); // carried past the await below by hand
    const queue = this.queue(service);
    const events = await this.events(service);
    const job = await context.with(caller, () =>
      queue.add(SERVICE_CALL_JOB_NAME, data, {
        ...(jobId !== undefined ? { jobId } : {}),
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      }),
    );
    // BullMQ rejects a timed-out wait and a failed job alike (a plain Error): our own timer,
    // armed before BullMQ's, tells them apart.
    let timedOut = false;
    const timer = setTimeout(() => (timedOut = true), timeoutMs);
    try {
      return await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      if (this.closing) throw new VoxqError('service_client_closed', `call to ${service} ended: the service client was closed`, { cause: error });
      if (timedOut) {
        throw new TimeoutError('service_timeout', `service ${service} did not answer within ${timeoutMs}ms (job ${job.id ?? '?'} stays queued)`, {
          cause: error,
        });
      }
      const failedReason = error instanceof Error ? error.message : String(error);
      throw new ServiceCallError(service, job.id, failedReason, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Live workers of the service's queue and the hosts they run on. */
  async health(service: StageName): Promise<ServiceHealth> {
    const workers = await this.queue(service).getWorkers();
    const hosts = new Set<string>();
    for (const worker of workers) {
      const host = hostOfWorker(worker.rawname, this.options.prefix, service);
      if (host !== undefined) hosts.add(host);
    }
    return { service, healthy: workers.length > 0, workers: workers.length, hosts: [...hosts].sort() };
  }

  /** Closes the queues and QueueEvents this client made (not the injected connection); idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const events = await Promise.allSettled([...this.queueEvents.values()]);
      await Promise.all(events.flatMap((e) => (e.status === 'fulfilled' ? [e.value.close()] : [])));
      await Promise.all([...this.queues.values()].map((q) => q.close()));
    })();
    return this.closing;
  }

  private queue(service: StageName): Queue {
    this.assertOpen();
    let queue = this.queues.get(service);
    if (!queue) {
      const { connection, prefix, telemetry } = this.options;
      queue = quietOnOutage(new Queue(service, { connection, prefix, ...(telemetry ? { telemetry } : {}) }));
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
    return openQueueEvents(this.queue(service), this.options.connection, this.options.prefix);
  }

  private assertOpen(): void {
    if (this.closing) throw new VoxqError('service_client_closed', 'the service client is closed');
  }
}

/** A service's job failed; `failedReason` is what the worker threw. */
export class ServiceCallError extends VoxqError {
  override readonly name = 'ServiceCallError';
  constructor(
    readonly service: StageName,
    readonly jobId: string | undefined,
    readonly failedReason: string,
    cause?: unknown,
  ) {
    super('service_failed', `service ${service} failed job ${jobId ?? '?'}: ${failedReason}`, { cause });
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
