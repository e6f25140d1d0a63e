// Run as a child process by tests/telemetry/tracing.test.ts (`node --import tsx …`): starts
// tracing as a voxq process would, sends one job through two queues (the first queue's
// processor adds the second's job), then flushes the spans and removes its queues.
// Env: REDIS_URL, VOXQ_TEST_PREFIX, SERVICE_NAME and the OTEL_* variables under test.
// Prints one JSON line: { "first": <job id>, "second": <job id>, "followsAwait": <bool> }.
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { Queue, Worker } from 'bullmq';
import { createRedis, closeRedis } from '../../src/shared/redis.js';
import { startTracing } from '../../src/shared/telemetry/tracing.js';
import { currentTraceContext, spanEvent, withSpan } from '../../src/shared/telemetry/span-helpers.js';

const prefix = process.env.VOXQ_TEST_PREFIX;
if (!prefix) throw new Error('VOXQ_TEST_PREFIX is required');
const tracing = startTracing(process.env.SERVICE_NAME ?? 'voxq-test');
if (!tracing.bullmq) throw new Error('tracing is off: expected the bullmq telemetry');

const connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker');
const common = { connection, prefix, telemetry: tracing.bullmq };
const first = new Queue('first', common);
const second = new Queue('second', common);

const firstWorker = new Worker(
  'first',
  async (job) => {
    const next = await second.add('next', { from: job.id });
    return { next: next.id };
  },
  common,
);
const secondWorker = new Worker(
  'second',
  async () => {
    // As the stage runner does: the job's context, read before the first await, passed by hand.
    const parent = currentTraceContext();
    await connection.ping();
    await withSpan(parent, 'child.call', { 'voxq.test': 'yes' }, () => Promise.resolve());
    spanEvent(parent, 'store.write', { 'voxq.collection': 'turns' });
    return { done: true };
  },
  common,
);

const secondDone = new Promise<string>((resolve, reject) => {
  secondWorker.once('completed', (job) => resolve(job.id ?? ''));
  secondWorker.once('failed', (_job, error) => reject(error));
  firstWorker.once('failed', (_job, error) => reject(error));
});
const added = await first.add('start', { hello: 'world' });
// Whether the active context follows an await (it must not: voxq's processes skip AsyncLocalStorage).
const marker = createContextKey('voxq.test.marker');
const followsAwait = await context.with(ROOT_CONTEXT.setValue(marker, true), async () => {
  await Promise.resolve();
  return context.active().getValue(marker) === true;
});
const secondId = await secondDone;

await Promise.all([firstWorker.close(), secondWorker.close()]);
await tracing.shutdown();
await Promise.all([first.obliterate({ force: true }), second.obliterate({ force: true })]);
await Promise.all([first.close(), second.close()]);
await closeRedis(connection);
process.stdout.write(`${JSON.stringify({ first: added.id, second: secondId, followsAwait })}\n`);
