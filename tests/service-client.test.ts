// BullmqServiceClient: voxq's stage workers as services (seed: ICommunicationManager). Calls go
// to a worker process started in this test process (startWorkerProcess, fake providers injected)
// on the real Redis and the test database, and come back as transcripts, replies and audio,
// without any turn: nothing is written to MongoDB and no turn state is left in Redis.
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, Worker, type Processor } from 'bullmq';
import type { Db } from 'mongodb';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { BullmqServiceClient, hostOfWorker, ServiceCallError } from '../src/shared/bullmq-service-client.js';
import { SERVICE_CALL_JOB_NAME } from '../src/shared/contracts/service-calls.js';
import type { StageName } from '../src/shared/contracts/turn.js';
import { InputError, TimeoutError } from '../src/shared/errors.js';
import { isServiceClient } from '../src/shared/ports/service-client.js';
import { closeRedis, createRedis, type RedisClient } from '../src/shared/redis.js';
import { CallStore } from '../src/shared/service-calls/call-store.js';
import { startPipeline, type Pipeline } from './support/pipeline.js';
import { makeWav } from './support/wav.js';

const STAGE_QUEUES: StageName[] = ['stt', 'llm', 'tts'];

/** Every document in every collection of the database. */
async function documentCount(db: Db): Promise<number> {
  let total = 0;
  for (const { name } of await db.listCollections().toArray()) total += await db.collection(name).countDocuments();
  return total;
}

async function queuedJobs(pipeline: Pipeline): Promise<number> {
  let total = 0;
  for (const stage of STAGE_QUEUES) {
    const counts = await pipeline.queues.get(stage).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    total += Object.values(counts).reduce((a, b) => a + b, 0);
  }
  return total;
}

describe('ServiceClient.call against voxq workers', () => {
  let pipeline: Pipeline | undefined;
  let client: BullmqServiceClient | undefined;

  async function start(options: Parameters<typeof startPipeline>[0] = {}): Promise<{ pipeline: Pipeline; client: BullmqServiceClient }> {
    pipeline = await startPipeline({ store: 'mongo', ...options });
    client = new BullmqServiceClient({ connection: pipeline.redis, prefix: pipeline.prefix, attempts: pipeline.config.VOXQ_STAGE_ATTEMPTS, language: 'pt-BR', voice: 'pf_dora' });
    return { pipeline, client };
  }

  afterEach(async () => {
    await client?.close();
    await pipeline?.close(); // fails when keys other than the queues' are left in Redis
    client = undefined;
    pipeline = undefined;
  });

  it('stt → transcript, llm → reply, tts → audio, through the stage runner, writing no turn, message or session', async () => {
    const { pipeline: p, client: c } = await start({ stt: { transcripts: ['bom dia, voxq'] }, llm: { replies: (prompt, o) => `eco: ${prompt} (${o.history?.length ?? 0} antes, ${o.systemPrompt ?? ''})` } });
    const db = (p.stores as unknown as { db: Db }).db;
    const before = await documentCount(db);

    const transcript = await c.call('stt', { audio: makeWav({ durationMs: 800 }) }, { timeoutMs: 20_000 });
    expect(transcript).toMatchObject({ text: 'bom dia, voxq', provider: 'fake', model: 'fake-stt' });
    expect(p.stt.lastCall?.options.language).toBe('pt-BR');
    expect(p.stt.lastCall?.audio.mimeType).toBe('audio/wav');

    const reply = await c.call('llm', { prompt: 'Que horas são?', systemPrompt: 'Seja breve.', temperature: 0.2, maxTokens: 50 }, { timeoutMs: 20_000 });
    expect(reply).toMatchObject({ text: 'eco: Que horas são? (0 antes, Seja breve.)', provider: 'fake', model: 'fake-llm' });
    expect(p.llm.lastCall?.options).toMatchObject({ temperature: 0.2, maxTokens: 50 });

    // A conversation: the last (user) message is the prompt, the ones before are its history; the worker's system prompt by default.
    const followUp = await c.call('llm', {
      messages: [
        { role: 'user', content: 'Oi' },
        { role: 'assistant', content: 'Olá!' },
        { role: 'user', content: 'E amanhã?' },
      ],
    });
    expect(followUp.text).toBe(`eco: E amanhã? (2 antes, ${p.config.VOXQ_SYSTEM_PROMPT})`);
    expect(p.llm.lastCall?.options.history).toEqual([
      { role: 'user', content: 'Oi' },
      { role: 'assistant', content: 'Olá!' },
    ]);

    const speech = await c.call('tts', { text: 'Bom dia!', speed: 1.5 }, { timeoutMs: 20_000 });
    expect(speech).toMatchObject({ provider: 'fake', model: 'fake-tts' });
    expect(speech.audio.format).toMatchObject({ container: 'wav', mimeType: 'audio/wav' });
    expect(Buffer.from(speech.audio.bytes.subarray(0, 4)).toString('ascii')).toBe('RIFF');
    expect(speech.audio.bytes.byteLength).toBeGreaterThan(44);
    expect(speech.audio.durationMs).toBeGreaterThan(0);
    expect(p.tts.lastCall).toMatchObject({ text: 'Bom dia!', options: { voice: 'pf_dora', language: 'pt-BR', speed: 1.5 } });

    // The stage runner's metrics, marked as calls.
    const durations = p.metrics.calls.filter((m) => m.name === 'voxq.stage.duration' && m.tags?.job === 'call').map((m) => m.tags?.stage);
    expect(durations.sort()).toEqual(['llm', 'llm', 'stt', 'tts']);
    // No turn: nothing in MongoDB, no session or turn state in Redis (the queues' keys only; pipeline.close checks again).
    expect(await documentCount(db)).toBe(before);
    expect((await p.keys()).filter((k) => !/^[^:]+:(stt|llm|tts):/.test(k))).toEqual([]);
    // A call job carries only its id: no prompt, text or audio in Redis's job hashes.
    const job = (await p.queues.get('llm').getCompleted())[0];
    expect(Object.keys(job?.data as object)).toEqual(['callId']);
    expect(JSON.stringify(job?.returnvalue)).not.toContain('eco');
  });

  it('refuses bad input with an InputError naming it, before anything is enqueued', async () => {
    const { pipeline: p, client: c } = await start({ workers: false });
    await expect(c.call('llm', { prompt: '   ' })).rejects.toMatchObject({ name: 'InputError', code: 'invalid_input', message: expect.stringMatching(/llm call input.*prompt.*empty/) as unknown });
    await expect(c.call('llm', { prompt: 'oi', messages: [{ role: 'user', content: 'oi' }] })).rejects.toThrow(/exactly one of prompt or messages/);
    await expect(c.call('llm', { messages: [{ role: 'assistant', content: 'oi' }] })).rejects.toThrow(/last of messages must be the user/);
    await expect(c.call('llm', { prompt: 'oi', temperature: 3 })).rejects.toThrow(/temperature/);
    await expect(c.call('tts', { text: 'oi', speed: 5 })).rejects.toThrow(/tts call input.*speed/);
    await expect(c.call('tts', { text: 'oi', voice: '../etc' })).rejects.toThrow(/voice/);
    await expect(c.call('tts', { text: 'oi', extra: 1 } as never)).rejects.toThrow(/extra/);
    await expect(c.call('stt', { audio: new Uint8Array() })).rejects.toMatchObject({ code: 'audio_empty' });
    await expect(c.call('stt', { audio: Buffer.from('isto não é áudio nenhum, só texto') })).rejects.toBeInstanceOf(InputError);
    await expect(c.call('stt', { audio: 'x' } as never)).rejects.toThrow(/audio must be bytes/);
    await expect(c.call('orchestrator' as StageName, { prompt: 'oi' })).rejects.toMatchObject({ code: 'unknown_service', message: expect.stringContaining('stt, llm, tts') as unknown });
    expect(await queuedJobs(p)).toBe(0);
    // BullMQ's queue metadata only: no job, no call request.
    expect((await p.keys()).filter((k) => !k.endsWith(':meta'))).toEqual([]);
  });

  it("carries a provider's error back with its code and retryable flag, after the stage's retries", async () => {
    const { pipeline: p, client: c } = await start();
    // Not retryable: one attempt.
    p.llm.script.failNext({ kind: 'auth' });
    const auth = c.call('llm', { prompt: 'oi' }, { timeoutMs: 20_000 });
    await expect(auth).rejects.toBeInstanceOf(ServiceCallError);
    await expect(auth).rejects.toMatchObject({ code: 'provider_auth', retryable: false, provider: 'fake-llm', service: 'llm', failedReason: expect.stringContaining('scripted auth failure') as unknown });
    expect(p.llm.script.calls).toBe(1);

    // Retryable: every attempt (VOXQ_STAGE_ATTEMPTS) runs, waiting the provider's retry-after, then it fails with the flag set.
    const attempts = p.config.VOXQ_STAGE_ATTEMPTS;
    p.tts.script.failNext(...Array.from({ length: attempts }, () => ({ kind: 'rate_limited' as const, retryAfterMs: 50 })));
    await expect(c.call('tts', { text: 'oi' }, { timeoutMs: 20_000 })).rejects.toMatchObject({ code: 'provider_rate_limited', retryable: true, retryAfterMs: 50, service: 'tts' });
    expect(p.tts.script.calls).toBe(attempts);

    // A failure the retries outlast: the call answers.
    p.stt.script.failNext({ kind: 'server' });
    const transcript = await c.call('stt', { audio: makeWav({ durationMs: 300 }) }, { timeoutMs: 20_000 });
    expect(transcript.text.length).toBeGreaterThan(0);
    expect(p.stt.script.calls).toBe(2);
  });

  it('fails a call job at once, running nothing, when its request is gone or unreadable', async () => {
    const { pipeline: p } = await start();
    const calls = new CallStore(p.redis, p.prefix);
    const unreadable = `call_${randomUUID()}`;
    await p.redis.hset(calls.key(unreadable), { input: JSON.stringify({ prompt: 5, history: [] }) });
    const gone = `call_${randomUUID()}`;
    const queue = p.queues.get('llm') as unknown as Queue<{ callId: string }>; // a stage queue, typed for turn jobs
    const jobs = await Promise.all([unreadable, gone].map((callId) => queue.add(SERVICE_CALL_JOB_NAME, { callId }, { jobId: callId, attempts: 4 })));
    await vi.waitFor(async () => expect(await Promise.all(jobs.map((j) => j.getState()))).toEqual(['failed', 'failed']), { timeout: 10_000, interval: 50 });
    const [first, second] = await Promise.all(jobs.map((j) => queue.getJob(j.id ?? '')));
    expect(first?.attemptsMade).toBe(1);
    expect(second?.failedReason).toMatch(/withdrawn or expired/);
    expect(await calls.getResult('llm', unreadable)).toMatchObject({ state: 'failed', failure: { code: 'invalid_call_request', retryable: false } });
    expect(p.llm.script.calls).toBe(0);
    await calls.delete(unreadable);
  });

  it('times out with a TimeoutError and withdraws the call no worker took', async () => {
    const { pipeline: p, client: c } = await start({ workers: false });
    const started = Date.now();
    const call = c.call('llm', { prompt: 'alguém aí?' }, { timeoutMs: 400 });
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    await expect(call).rejects.toMatchObject({ code: 'service_timeout', message: expect.stringMatching(/llm did not answer within 400ms \(the call was withdrawn\)/) as unknown });
    expect(Date.now() - started).toBeLessThan(5_000);
    // Nothing is left to run when a worker comes, and the call's request is gone.
    expect(await queuedJobs(p)).toBe(0);
    expect((await p.keys()).filter((k) => k.includes(':call:'))).toEqual([]);
    p.startWorkers();
    expect(await c.call('llm', { prompt: 'agora sim' }, { timeoutMs: 20_000 })).toMatchObject({ provider: 'fake' });
    expect(p.llm.script.calls).toBe(1);
  });
});

describe('BullmqServiceClient health and lifecycle', () => {
  let prefix: string;
  let producer: RedisClient;
  let client: BullmqServiceClient;
  let workers: Worker[];
  let workerConnections: RedisClient[];

  beforeEach(() => {
    prefix = `voxq-test-svc-${randomBytes(4).toString('hex')}`;
    producer = createRedis(inject('redisUrl'), 'producer');
    client = new BullmqServiceClient({ connection: producer, prefix });
    workers = [];
    workerConnections = [];
  });

  afterEach(async () => {
    await client.close();
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(workerConnections.map((c) => closeRedis(c)));
    for (const service of STAGE_QUEUES) {
      const queue = new Queue(service, { connection: producer, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    expect(await producer.keys(`${prefix}:*`)).toEqual([]);
    await closeRedis(producer);
  });

  async function startWorker(service: StageName, processor: Processor): Promise<Worker> {
    const connection = createRedis(inject('redisUrl'), 'worker');
    workerConnections.push(connection);
    // As src/workers/stage-worker.ts names its workers.
    const worker = new Worker(service, processor, { connection, prefix, name: `${hostname()}:${process.pid}` });
    workers.push(worker);
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    return worker;
  }

  it('is unhealthy without workers, healthy with two that list this host', async () => {
    expect(await client.health('tts')).toEqual({ service: 'tts', healthy: false, workers: 0, hosts: [] });
    await startWorker('tts', () => Promise.resolve(null));
    await startWorker('tts', () => Promise.resolve(null));
    // A worker on another queue does not count.
    await startWorker('stt', () => Promise.resolve(null));
    expect(await client.health('tts')).toEqual({ service: 'tts', healthy: true, workers: 2, hosts: [hostname()] });
  });

  it('closes idempotently and refuses calls afterwards, leaving the injected connection open', async () => {
    expect((await client.health('stt')).healthy).toBe(false);
    await Promise.all([client.close(), client.close()]);
    await client.close();
    await expect(client.call('llm', { prompt: 'oi' }, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'service_client_closed' });
    expect(producer.status).toBe('ready');
  });

  it('opens and closes its own connection from a redisUrl', async () => {
    const own = new BullmqServiceClient({ redisUrl: inject('redisUrl'), prefix });
    expect(await own.health('llm')).toMatchObject({ healthy: false });
    await own.close();
    expect(() => new BullmqServiceClient({ prefix })).toThrow(/connection.*redisUrl/);
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
    const redis = { options: {} } as unknown as RedisClient;
    expect(isServiceClient(new BullmqServiceClient({ connection: redis, prefix: 'unused' }))).toBe(true);
    const fn = () => Promise.resolve();
    expect(isServiceClient({ call: fn, health: fn, close: fn })).toBe(true);
    expect(isServiceClient({ call: fn, health: fn })).toBe(false);
    expect(isServiceClient({ call: fn, close: fn })).toBe(false);
    expect(isServiceClient({ call: 'x', health: fn, close: fn })).toBe(false);
    expect(isServiceClient(null)).toBe(false);
  });
});
