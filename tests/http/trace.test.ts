// Traces across processes: the built `voxq api` and `voxq worker` (fake providers) export OTLP to
// a receiver run here. Each API-submitted turn is one trace: the API's request span at the root,
// the queue hop, a span per stage on the worker, provider calls inside, store writes as events.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoApiKeyStore } from '../../src/shared/store/mongo-api-key-store.js';
import { openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { otlpProcessEnv, spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { spawnVoxq, voxqStateEnv, type VoxqProcess } from '../support/voxq-process.js';
import { makeWav } from '../support/wav.js';

const SECRET_TEXT = 'Minha senha secreta é abacaxi';

let otlp: OtlpReceiver;
let stores: MongoStores;
let prefix: string;
const dbName = uniqueDbName('trace');
let api: VoxqProcess;
let worker: VoxqProcess;
let url: string;
let key: string;

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  prefix = `vh${randomBytes(4).toString('hex')}`;
  stores = await openMongoStores(testMongoUrl(), dbName);
  key = (await new MongoApiKeyStore(stores.db).create({ scopes: ['turns:read', 'turns:write'] })).key;
  const env = {
    ...voxqStateEnv(prefix, dbName),
    VOXQ_STT: 'fake',
    VOXQ_LLM: 'fake',
    VOXQ_TTS: 'fake',
    VOXQ_LOG_LEVEL: 'info',
    ...otlpProcessEnv(otlp.url),
  };
  api = spawnVoxq(['api', '--port', '0', '--host', '127.0.0.1'], env);
  worker = spawnVoxq(['worker', '--concurrency', '2'], env);
  const [listening] = await Promise.all([api.waitForLog('api listening'), worker.waitForLog('workers started')]);
  url = `http://127.0.0.1:${String(listening.port)}`;
});

afterAll(async () => {
  await stopProcesses([api, worker].filter((p): p is VoxqProcess => p !== undefined));
  await stores?.close();
  await dropTestState({ prefix, dbName });
  await otlp?.close();
});

/** The trace id each turn's 202 answered (what the console links to through VOXQ_TRACE_URL_TEMPLATE). */
const answeredTraceIds = new Map<string, string>();

async function submit(body: FormData | object): Promise<string> {
  const init: RequestInit =
    body instanceof FormData
      ? { method: 'POST', body, headers: { authorization: `Bearer ${key}` } }
      : { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
  const res = await fetch(`${url}/v1/turns`, init);
  const json = (await res.json()) as { turnId: string; traceId?: string };
  expect(res.status, JSON.stringify(json)).toBe(202);
  if (json.traceId) answeredTraceIds.set(json.turnId, json.traceId);
  const done = (await (await fetch(`${url}/v1/turns/${json.turnId}/wait?timeoutMs=30000`, { headers: { authorization: `Bearer ${key}` } })).json()) as { status: string };
  expect(done.status).toBe('completed');
  return json.turnId;
}

const requestSpanOf = (turnId: string) => (s: ReceivedSpan) =>
  s.name === 'POST /v1/turns' && s.events.some((e) => e.name === 'voxq.turn.enqueued' && e.attributes['voxq.turn.id'] === turnId);
const stageSpanOf = (turnId: string, stage: string) => (s: ReceivedSpan) => s.name === `process ${stage}` && s.attributes['voxq.turn.id'] === turnId;

describe('traces of API-submitted turns', () => {
  it('one trace per turn, rooted at the API request, with every stage, provider call and store write inside', async () => {
    const sessionRes = await fetch(`${url}/v1/sessions`, { method: 'POST', body: JSON.stringify({ userId: 'trace' }), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    const { sessionId } = (await sessionRes.json()) as { sessionId: string };
    const form = new FormData();
    form.append('sessionId', sessionId);
    form.append('audio', new Blob([makeWav({ durationMs: 600 })], { type: 'audio/wav' }), 'a.wav');
    const audioTurn = await submit(form);
    const textTurn = await submit({ sessionId, text: SECRET_TEXT });

    await otlp.waitFor(
      (spans) =>
        spans.some(requestSpanOf(audioTurn)) && spans.some(requestSpanOf(textTurn)) && spans.some(stageSpanOf(audioTurn, 'tts')) && spans.some(stageSpanOf(textTurn, 'tts')),
      20_000,
    );

    const request = otlp.spans.find(requestSpanOf(audioTurn))!;
    const tree = spanTree(otlp.spans, request.traceId);
    // One root: the API's request span (kind server), in the API's service.
    expect(tree.roots.map((r) => r.span.name), tree.render()).toEqual(['POST /v1/turns']);
    expect(request).toMatchObject({ kind: 'server', serviceName: 'voxq-api', parentSpanId: undefined });
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/turns', 'http.response.status_code': 202 });
    expect(new Set(tree.spans.map((s) => s.serviceName))).toEqual(new Set(['voxq-api', 'voxq-worker']));

    // Every span that names this turn is in this trace; the other turn has its own trace.
    const turnSpans = otlp.spans.filter((s) => s.attributes['voxq.turn.id'] === audioTurn);
    expect(new Set(turnSpans.map((s) => s.traceId))).toEqual(new Set([request.traceId]));
    expect(otlp.spans.find(requestSpanOf(textTurn))?.traceId).not.toBe(request.traceId);
    // POST /v1/turns answered each turn's trace id.
    expect(answeredTraceIds.get(audioTurn)).toBe(request.traceId);
    expect(answeredTraceIds.get(textTurn)).toBe(otlp.spans.find(requestSpanOf(textTurn))?.traceId);

    // The queue hop: the worker's first stage span is a child of the API's request, across
    // processes (directly, or through BullMQ's `add` producer span where that is kept); then
    // each stage under the one before.
    const stt = tree.spans.find(stageSpanOf(audioTurn, 'stt'))!;
    const llm = tree.spans.find(stageSpanOf(audioTurn, 'llm'))!;
    const tts = tree.spans.find(stageSpanOf(audioTurn, 'tts'))!;
    expect(tree.isDescendant(stt, request), tree.render()).toBe(true);
    expect(tree.ancestors(stt).every((s) => s.serviceName === 'voxq-api'), tree.render()).toBe(true);
    expect(tree.isDescendant(llm, stt)).toBe(true);
    expect(tree.isDescendant(tts, llm)).toBe(true);
    for (const [stage, span] of [['stt', stt], ['llm', llm], ['tts', tts]] as const) {
      expect(span.serviceName).toBe('voxq-worker');
      expect(span.attributes).toMatchObject({
        'voxq.session.id': sessionId,
        'voxq.stage': stage,
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': stage,
        // TTS runs one job per sentence of the reply: `<turn>.tts.<index>`.
        'messaging.message.id': stage === 'tts' ? (expect.stringMatching(new RegExp(`^${audioTurn}\\.tts\\.\\d+$`)) as unknown) : `${audioTurn}.${stage}`,
      });
      expect(typeof span.attributes['voxq.stage.queue_wait_ms']).toBe('number');
      // The write of the stage's output: the record for stt and llm, the sentence's chunk in the turn's log for tts.
      expect(span.events.map((e) => e.name)).toContain(stage === 'tts' ? 'voxq.live.sentence_delivered' : 'voxq.store.stage_recorded');
    }

    // Provider calls: children of their stage, gen_ai attributes.
    expect(tree.parent(tree.one('stt.transcribe'))?.spanId).toBe(stt.spanId);
    const chat = tree.one('llm.chat');
    expect(tree.parent(chat)?.spanId).toBe(llm.spanId);
    expect(chat.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'fake' });
    expect(typeof chat.attributes['gen_ai.request.model']).toBe('string');
    // One synthesis per sentence, each under its own sentence's TTS job span.
    const syntheses = tree.spans.filter((s) => s.name === 'tts.synthesize');
    const ttsJobs = tree.spans.filter(stageSpanOf(audioTurn, 'tts'));
    expect(syntheses.length).toBeGreaterThan(0);
    expect(syntheses).toHaveLength(ttsJobs.length);
    for (const synthesis of syntheses) expect(ttsJobs.map((j) => j.spanId)).toContain(tree.parent(synthesis)?.spanId);

    // Never message text (nor audio) in attributes or events.
    const textTree = spanTree(otlp.spans, otlp.spans.find(requestSpanOf(textTurn))!.traceId);
    const everything = JSON.stringify([...tree.spans, ...textTree.spans].map((s) => [s.attributes, s.events]));
    expect(everything).not.toContain('abacaxi');
    console.log(`spans per turn: audio ${tree.spans.length} (${tree.spans.filter((s) => s.serviceName === 'voxq-api').length} in the API), text ${textTree.spans.length}`);
    console.log(tree.render());
  });

  it("continues a caller's W3C traceparent: the request span is the caller span's child, the turn in the caller's trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` };
    const sessionRes = await fetch(`${url}/v1/sessions`, { method: 'POST', body: JSON.stringify({ userId: 'trace-parent' }), headers });
    const { sessionId } = (await sessionRes.json()) as { sessionId: string };
    const res = await fetch(`${url}/v1/turns`, { method: 'POST', body: JSON.stringify({ sessionId, text: 'Que horas são?' }), headers });
    const json = (await res.json()) as { turnId: string; traceId?: string };
    expect(res.status, JSON.stringify(json)).toBe(202);
    // The 202 answers the caller's trace id.
    expect(json.traceId).toBe(traceId);
    await otlp.waitFor((spans) => spans.some(requestSpanOf(json.turnId)) && spans.some(stageSpanOf(json.turnId, 'tts')), 20_000);

    const request = otlp.spans.find(requestSpanOf(json.turnId))!;
    expect(request).toMatchObject({ traceId, parentSpanId: callerSpanId, kind: 'server' });
    const tree = spanTree(otlp.spans, traceId);
    // The caller's span is not exported by voxq: the request span hangs from it, the stages under the request span.
    for (const stage of ['llm', 'tts']) {
      const span = tree.spans.find(stageSpanOf(json.turnId, stage))!;
      expect(span.traceId).toBe(traceId);
      expect(tree.isDescendant(span, request), tree.render()).toBe(true);
    }
    expect(otlp.spans.filter((s) => s.attributes['voxq.turn.id'] === json.turnId).every((s) => s.traceId === traceId)).toBe(true);
  });

  it('`voxq api` closes cleanly on SIGTERM', async () => {
    api.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.stderr()).toContain('api stopped');
  });
});
