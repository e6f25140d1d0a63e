// BullmqServiceClient against real BullMQ workers on the real Redis, one prefix per test.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { BullmqServiceClient, hostOfWorker, SERVICE_CALL_JOB_NAME } from '../src/shared/bullmq-service-client.js';
import type { StageName } from '../src/shared/contracts/turn.js';
import { TimeoutError, VoxqError } from '../src/shared/errors.js';
import { isServiceClient } from '../src/shared/ports/service-client.js';
import { closeRedis, createRedis } from '../src/shared/redis.js';

async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

describe('BullmqServiceClient', () => {
  let prefix: string;
  let producer: Redis;
  let client: BullmqServiceClient;
  let workers: Worker[];
  let workerConnections: Redis[];

  beforeEach(() => {
    prefix = `voxq-test-svc-${randomBytes(4).toString('hex')}`;
    // A producer connection (maxRetriesPerRequest 3), as the SDK would hand the client.
    producer = createRedis(inject('redisUrl'), 'producer');
    client = new BullmqServiceClient({ connection: producer, prefix });
    workers = [];
    workerConnections = [];
  });

  afterEach(async () => {
    await client.close();
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(workerConnections.map((c) => closeRedis(c)));
    const services: StageName[] = ['stt', 'llm', 'tts'];
    for (const service of services) {
      const queue = new Queue(service, { connection: producer, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    expect(await keysWithPrefix(producer, prefix)).toEqual([]);
    await closeRedis(producer);
  });

  async function startWorker(service: StageName, processor: Processor): Promise<Worker> {
    const connection = createRedis(inject('redisUrl'), 'worker');
    workerConnections.push(connection);
    const worker = new Worker(service, processor, {
      connection,
      prefix,
      // As src/workers/stage-worker.ts names its workers.
      name: `${hostname()}:${process.pid}`,
    });
    workers.push(worker);
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    return worker;
  }

  it("resolves with the processor's return value", async () => {
    await startWorker('llm', (job) => Promise.resolve({ echoed: job.data as unknown, name: job.name }));
    const result = await client.call('llm', { text: 'olá' }, { timeoutMs: 10_000 });
    expect(result).toEqual({ echoed: { text: 'olá' }, name: SERVICE_CALL_JOB_NAME });
  });

  it('uses the given jobId: a second call with it awaits the same job', async () => {
    let runs = 0;
    await startWorker('tts', () => Promise.resolve(++runs));
    expect(await client.call('tts', { n: 1 }, { timeoutMs: 10_000, jobId: 'turn-1.tts' })).toBe(1);
    expect(await client.call('tts', { n: 2 }, { timeoutMs: 10_000, jobId: 'turn-1.tts' })).toBe(1);
    expect(runs).toBe(1);
  });

  it('times out with a TimeoutError naming the service and the ms, leaving the job queued', async () => {
    const call = client.call('stt', { audio: 'ref' }, { timeoutMs: 300, jobId: 'slow-1' });
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    await expect(call).rejects.toMatchObject({ code: 'service_timeout', message: expect.stringMatching(/stt.*300ms/) as unknown });

    const queue = new Queue('stt', { connection: producer, prefix });
    const job = await queue.getJob('slow-1');
    expect(job?.data).toEqual({ audio: 'ref' });
    expect(await job?.getState()).toBe('waiting');
    await queue.close();
  });

  it('rejects with service_failed carrying the failedReason when the job fails', async () => {
    await startWorker('llm', () => Promise.reject(new Error('provider down: 503')));
    const call = client.call('llm', {}, { timeoutMs: 10_000 });
    await expect(call).rejects.toBeInstanceOf(VoxqError);
    await expect(call).rejects.not.toBeInstanceOf(TimeoutError);
    await expect(call).rejects.toMatchObject({ code: 'service_failed', failedReason: 'provider down: 503', service: 'llm' });
  });

  it('is unhealthy without workers, healthy with two that list this host', async () => {
    expect(await client.health('tts')).toEqual({ service: 'tts', healthy: false, workers: 0, hosts: [] });
    await startWorker('tts', () => Promise.resolve(null));
    await startWorker('tts', () => Promise.resolve(null));
    // A worker on another queue does not count.
    await startWorker('stt', () => Promise.resolve(null));
    expect(await client.health('tts')).toEqual({ service: 'tts', healthy: true, workers: 2, hosts: [hostname()] });
  });

  it('closes idempotently and refuses calls afterwards, leaving the injected connection open', async () => {
    await startWorker('stt', () => Promise.resolve('ok'));
    expect(await client.call('stt', {}, { timeoutMs: 10_000 })).toBe('ok');
    await Promise.all([client.close(), client.close()]);
    await client.close();
    await expect(client.call('stt', {}, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'service_client_closed' });
    expect(producer.status).toBe('ready');
  });
});

describe('hostOfWorker', () => {
  const name = (worker: string) => `voxq:${Buffer.from('stt').toString('base64')}:w:${worker}`;

  it('reads the host of a `${hostname}:${pid}` worker name', () => {
    expect(hostOfWorker(name('gpu-box-1:4242'), 'voxq', 'stt')).toBe('gpu-box-1');
    expect(hostOfWorker(name('w:17'), 'voxq', 'stt')).toBe('w');
    expect(hostOfWorker(name('plain-name'), 'voxq', 'stt')).toBe('plain-name');
  });

  it('gives nothing for unnamed workers and other queues', () => {
    expect(hostOfWorker(`voxq:${Buffer.from('stt').toString('base64')}`, 'voxq', 'stt')).toBeUndefined();
    expect(hostOfWorker(name('box:1'), 'voxq', 'llm')).toBeUndefined();
    expect(hostOfWorker(undefined, 'voxq', 'stt')).toBeUndefined();
  });
});

describe('isServiceClient', () => {
  it('accepts the BullMQ client and rejects incomplete mocks', () => {
    const redis = { options: {} } as unknown as Redis;
    expect(isServiceClient(new BullmqServiceClient({ connection: redis, prefix: 'unused' }))).toBe(true);
    const fn = () => Promise.resolve();
    expect(isServiceClient({ call: fn, health: fn, close: fn })).toBe(true);
    expect(isServiceClient({ call: fn, health: fn })).toBe(false);
    expect(isServiceClient({ call: fn, close: fn })).toBe(false);
    expect(isServiceClient({ call: 'x', health: fn, close: fn })).toBe(false);
    expect(isServiceClient(null)).toBe(false);
  });
});
