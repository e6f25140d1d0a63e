// Tracing for library users: startTracing() in the caller's process (this test process) makes
// the caller's active span the parent of the turns it enqueues and the service calls it makes.
// The stages run in a real `voxq worker` process (the built CLI, fake providers) that exports
// its spans over OTLP to a receiver here. Two cases: the caller runs no SDK (voxq starts one,
// with a context manager that follows the caller's awaits), and the caller runs its own SDK
// (voxq uses it, an in-memory exporter here, and installs nothing of its own).
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurnOfTheLoop } from 'node:timers/promises';
import { context, propagation, trace, type Span } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/producers/sdk/connect.js';
import { BullmqServiceClient } from '../../src/shared/bullmq-service-client.js';
import { configSchema } from '../../src/shared/config.js';
import { startTracing, type LibraryTracing } from '../../src/shared/telemetry/library-tracing.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { uniqueDbName } from '../support/mongo.js';
import { otlpProcessEnv, spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { spawnVoxq, voxqStateEnv, type VoxqProcess } from '../support/voxq-process.js';

let otlp: OtlpReceiver;
let worker: VoxqProcess;
let prefix: string;
const dbName = uniqueDbName('libtrace');
let stateEnv: Record<string, string>;

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  prefix = `vl${randomBytes(4).toString('hex')}`;
  stateEnv = voxqStateEnv(prefix, dbName);
  worker = spawnVoxq(['worker', '--concurrency', '2'], { ...stateEnv, VOXQ_STT: 'fake', VOXQ_LLM: 'fake', VOXQ_TTS: 'fake', VOXQ_LOG_LEVEL: 'info', ...otlpProcessEnv(otlp.url) });
  await worker.waitForLog('workers started');
});

afterAll(async () => {
  await stopProcesses([worker].filter((p): p is VoxqProcess => p !== undefined));
  await dropTestState({ prefix, dbName });
  await otlp?.close();
});

/** The caller's work: a session, a turn and a service call under the caller's active span, with awaits between. */
async function callerWork(tracing: LibraryTracing): Promise<{ caller: Span; turnId: string; activeAfterAwaits: boolean }> {
  const config = configSchema.parse({ ...stateEnv, VOXQ_STT: 'fake', VOXQ_LLM: 'fake', VOXQ_TTS: 'fake', VOXQ_LOG_LEVEL: 'silent' });
  const voxq = await connect({ config, tracing });
  const services = new BullmqServiceClient({ redisUrl: config.REDIS_URL, prefix: config.VOXQ_PREFIX, telemetry: tracing.bullmq });
  try {
    return await trace.getTracer('caller-app').startActiveSpan('caller.handle', async (caller) => {
      const session = await voxq.createSession('tracing-user');
      // A real async boundary (a macrotask), not a timed pause: the caller's span must survive it.
      await nextTurnOfTheLoop();
      const activeAfterAwaits = trace.getActiveSpan()?.spanContext().spanId === caller.spanContext().spanId;
      // No `trace` option: the context active at the call (the caller's span) is the turn's parent.
      const turn = await voxq.enqueueTurn({ sessionId: session.sessionId, text: 'Que horas são?' });
      await turn.result({ timeoutMs: 30_000 });
      await services.call('llm', { prompt: 'Olá' }, { timeoutMs: 30_000 });
      caller.end();
      return { caller, turnId: turn.turnId, activeAfterAwaits };
    });
  } finally {
    await services.close();
    await voxq.close(); // shuts the tracing handle down too
  }
}

/** The worker's spans of the turn (a text turn: llm and tts) and of the service call in the caller's trace, once they are in. */
async function workerSpans(turnId: string, traceId: string): Promise<{ stages: ReceivedSpan[]; call: ReceivedSpan }> {
  const isStage = (s: ReceivedSpan) => s.name.startsWith('process ') && s.attributes['voxq.turn.id'] === turnId;
  const isCall = (s: ReceivedSpan) => s.name === 'process llm' && s.traceId === traceId && typeof s.attributes['voxq.call.id'] === 'string';
  await otlp.waitFor((spans) => ['llm', 'tts'].every((st) => spans.some((s) => isStage(s) && s.name === `process ${st}`)) && spans.some(isCall), 20_000);
  return { stages: otlp.spans.filter(isStage), call: otlp.spans.find(isCall)! };
}

/** A span the caller's SDK recorded, as the receiver's spans are shaped (for one tree with the worker's). */
function asReceived(span: ReadableSpan): ReceivedSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: 'internal',
    serviceName: 'caller-app',
    scopeName: span.instrumentationScope.name,
    attributes: {},
    events: [],
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    status: { code: 'unset', message: undefined },
  };
}

function expectUnder(spans: readonly ReceivedSpan[], callerSpanId: string, traceId: string, under: ReceivedSpan[]): void {
  const tree = spanTree(spans, traceId);
  const caller = tree.spans.find((s) => s.spanId === callerSpanId)!;
  expect(caller, tree.render()).toBeDefined();
  for (const span of under) {
    expect(span.traceId).toBe(traceId);
    expect(span.serviceName).toBe('voxq-worker');
    expect(tree.isDescendant(span, caller), `${span.name} under caller.handle:\n${tree.render()}`).toBe(true);
  }
}

describe('startTracing() for library users', () => {
  it("without an SDK of the caller's: starts one from OTEL_* that follows the caller's awaits, and the caller's span parents the turn and the call", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, otlpProcessEnv(otlp.url));
    let tracing: LibraryTracing | undefined;
    try {
      tracing = startTracing({ serviceName: 'caller-app' });
      expect(tracing.source).toBe('voxq');
      const { caller, turnId, activeAfterAwaits } = await callerWork(tracing);
      // voxq's own processes pass context by hand (SyncContextManager); a library user's code does not.
      expect(activeAfterAwaits).toBe(true);
      const { traceId, spanId } = caller.spanContext();
      const { stages, call } = await workerSpans(turnId, traceId);
      await otlp.waitFor((spans) => spans.some((s) => s.spanId === spanId), 10_000); // exported from this process on shutdown
      expectUnder(otlp.spans, spanId, traceId, [...stages, call]);
    } finally {
      await tracing?.shutdown();
      process.env = saved;
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });

  it("with the caller's own SDK: uses it (its exporter, its context manager) and starts nothing", async () => {
    const exporter = new InMemorySpanExporter();
    const sdk = new NodeSDK({ serviceName: 'caller-app', spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [], metricReaders: [], logRecordProcessors: [] });
    sdk.start();
    try {
      const tracing = startTracing();
      expect(tracing.source).toBe('caller');
      const { caller, turnId, activeAfterAwaits } = await callerWork(tracing);
      expect(activeAfterAwaits).toBe(true);
      const { traceId, spanId } = caller.spanContext();
      // The caller's span went to the caller's exporter, not to voxq's receiver.
      const recorded = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId);
      expect(recorded?.name).toBe('caller.handle');
      expect(otlp.spans.some((s) => s.spanId === spanId)).toBe(false);
      const { stages, call } = await workerSpans(turnId, traceId);
      // One tree: the caller's spans (its SDK) and the worker's (OTLP), the turn's and the call's stages under caller.handle.
      expectUnder([...otlp.spans, ...exporter.getFinishedSpans().map(asReceived)], spanId, traceId, [...stages, call]);
    } finally {
      await sdk.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
