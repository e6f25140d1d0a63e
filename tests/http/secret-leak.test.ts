// No key leaks. The built `voxq api` and `voxq worker` run a full session and a failing one on two
// deployments: Groq STT and LLM with OpenAI TTS, and a speech-native LLM that transcribes
// alongside (OpenAI-compatible) with Groq STT behind it — local stand-ins, each with its own key.
// In the failing session the providers answer errors that quote the key they were sent, as some
// providers' do, and callers present a forged and a malformed API key. Then every log line of
// both processes, every Redis key under the prefix (jobs' data, return values, failed reasons,
// turn event logs), every OTLP export (spans and metrics), the API's /metrics, every document of
// the database, every Bull Board page and API answer, and every other API answer is searched for
// the provider keys, the API keys' secrets and the sign-in token: none may be anywhere.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { BSON } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cookieValue, SESSION_COOKIE } from '../../src/producers/http/auth.js';
import { parseKey } from '../../src/shared/store/api-key-secret.js';
import { MongoApiKeyStore } from '../../src/shared/store/mongo-api-key-store.js';
import { openMongoStores, type MongoStores } from '../../src/shared/store/mongo-stores.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { startGroqStandin, type GroqStandin } from '../support/groq-standin.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { otlpProcessEnv, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { spawnVoxq, voxqStateEnv, type VoxqProcess } from '../support/voxq-process.js';
import { makeWav } from '../support/wav.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const GROQ_KEY = `gsk_leakcanary_${hex(20)}`;
const OPENAI_KEY = `sk-leakcanary-${hex(20)}`;
const FORGED_KEY = `voxq_${hex(8)}_${randomBytes(32).toString('base64url')}`;
const MALFORMED_KEY = `voxq_leakcanary_${hex(16)}`;
const STAGES = ['stt', 'llm', 'tts'] as const;

/** Somewhere a secret could end up, and what is there. */
interface Place {
  where: string;
  content: Buffer;
}

/** The built `voxq api` and `voxq worker`, their stand-in providers, OTLP receiver, keys and state. */
interface Running {
  groq: GroqStandin;
  openai: GroqStandin;
  otlp: OtlpReceiver;
  stores: MongoStores;
  prefix: string;
  api: VoxqProcess;
  worker: VoxqProcess;
  url: string;
  appKey: string;
  opsKey: string;
  /** Every answer the API gave the test. */
  answers: Place[];
  close(): Promise<void>;
}

interface Deployment {
  name: string;
  /** Which provider serves which stage. */
  env: Record<string, string>;
  /** The failing session's turns, whose providers answer errors quoting the key they were sent; their ids. */
  failTurns(d: Running, sessionId: string): Promise<string[]>;
}

const quoting = (key: string) => `Incorrect API key provided: ${key}`;
const echoing = (key: string) => `upstream refused the request with Authorization: Bearer ${key}`;

const DEPLOYMENTS: Deployment[] = [
  {
    name: 'Groq STT and LLM, OpenAI TTS',
    env: { VOXQ_STT: 'groq', VOXQ_LLM: 'groq', VOXQ_TTS: 'openai' },
    async failTurns(d, sessionId) {
      // A 500 (retried), then a 401 (the turn fails).
      d.groq.failNext({ endpoint: 'chat', status: 500, message: echoing(GROQ_KEY) }, { endpoint: 'chat', status: 401, message: quoting(GROQ_KEY) });
      const llm = await turn(d, { sessionId, text: 'Que horas são?' });
      expect(llm.done).toMatchObject({ status: 'failed', error: { stage: 'llm', code: 'provider_auth' } });
      d.openai.failNext({ endpoint: 'speech', status: 401, message: quoting(OPENAI_KEY) });
      const tts = await turn(d, { sessionId, text: 'Então diga outra coisa.' });
      expect(tts.done).toMatchObject({ status: 'failed', error: { stage: 'tts', code: 'provider_auth' } });
      return [llm.turnId, tts.turnId];
    },
  },
  {
    name: 'a speech-native LLM that transcribes, Groq STT, OpenAI TTS',
    env: { VOXQ_STT: 'groq', VOXQ_LLM: 'speech-native', VOXQ_SPEECH_LLM_TRANSCRIBES: 'true', VOXQ_TTS: 'openai' },
    async failTurns(d, sessionId) {
      // The LLM's side transcription fails (logged), so an STT job transcribes: a 500 (retried), then the words.
      d.openai.failNext({ endpoint: 'transcriptions', status: 401, message: quoting(OPENAI_KEY) });
      d.groq.failNext({ endpoint: 'transcriptions', status: 500, message: echoing(GROQ_KEY) });
      const side = await turn(d, audioTurn(sessionId));
      expect(side.done.status).toBe('completed');
      d.openai.failNext({ endpoint: 'chat', status: 401, message: quoting(OPENAI_KEY) });
      const llm = await turn(d, { sessionId, text: 'Que horas são?' });
      expect(llm.done).toMatchObject({ status: 'failed', error: { stage: 'llm', code: 'provider_auth' } });
      return [side.turnId, llm.turnId];
    },
  },
];

async function start(deployment: Deployment): Promise<Running> {
  const [groq, openai, otlp] = await Promise.all([startGroqStandin({ apiKey: GROQ_KEY }), startGroqStandin({ apiKey: OPENAI_KEY }), startOtlpReceiver({ keepBodies: true })]);
  const prefix = `vk${hex(4)}`;
  const dbName = uniqueDbName('leak');
  const stores = await openMongoStores(testMongoUrl(), dbName);
  const keys = new MongoApiKeyStore(stores.db);
  const appKey = (await keys.create({ scopes: ['turns:read', 'turns:write'], name: 'app' })).key;
  const opsKey = (await keys.create({ scopes: ['board:admin', 'metrics:read'], name: 'ops' })).key;
  const env = {
    ...voxqStateEnv(prefix, dbName),
    ...deployment.env,
    GROQ_API_KEY: GROQ_KEY,
    GROQ_BASE_URL: groq.url,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: openai.openaiUrl,
    // Every log line there is.
    VOXQ_LOG_LEVEL: 'trace',
    ...otlpProcessEnv(otlp.url),
    OTEL_METRICS_EXPORTER: 'otlp',
  };
  const api = spawnVoxq(['api', '--port', '0', '--host', '127.0.0.1'], env);
  const worker = spawnVoxq(['worker', '--concurrency', '2'], env);
  const close = async () => {
    await stopProcesses([api, worker]);
    await stores.close();
    await dropTestState({ prefix, dbName });
    await Promise.all([groq.close(), openai.close(), otlp.close()]);
  };
  try {
    const [listening] = await Promise.all([api.waitForLog('api listening'), worker.waitForLog('workers started')]);
    const url = `http://127.0.0.1:${String(listening.port)}`;
    return { groq, openai, otlp, stores, prefix, api, worker, url, appKey, opsKey, answers: [], close };
  } catch (error) {
    await close();
    throw error;
  }
}

interface CallOptions {
  key?: string;
  cookie?: string;
  json?: unknown;
  form?: FormData;
}

/** One API request; its answer is kept for the search. */
async function call(d: Running, path: string, { key, cookie, json, form }: CallOptions = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const headers = new Headers();
  if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
  if (cookie !== undefined) headers.set('cookie', cookie);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const body = form ?? (json !== undefined ? JSON.stringify(json) : undefined);
  const method = body === undefined ? 'GET' : 'POST';
  const res = await fetch(`${d.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const content = Buffer.from(await res.arrayBuffer());
  d.answers.push({ where: `API answer to ${method} ${path} (${res.status})`, content });
  return { status: res.status, body: content, headers: res.headers };
}

async function callJson<T>(d: Running, path: string, options: CallOptions = {}, status = 200): Promise<T> {
  const res = await call(d, path, options);
  expect(res.status, res.body.toString()).toBe(status);
  return JSON.parse(res.body.toString()) as T;
}

function audioTurn(sessionId: string): FormData {
  const form = new FormData();
  form.append('sessionId', sessionId);
  form.append('audio', new Blob([makeWav({ durationMs: 600 })], { type: 'audio/wav' }), 'pergunta.wav');
  return form;
}

interface TurnAnswer {
  status: string;
  error?: { stage: string; code: string; message: string };
}

/** Submits a turn and waits for it to end. */
async function turn(d: Running, body: { sessionId: string; text: string } | FormData): Promise<{ turnId: string; done: TurnAnswer }> {
  const submit: CallOptions = body instanceof FormData ? { key: d.appKey, form: body } : { key: d.appKey, json: body };
  const { turnId } = await callJson<{ turnId: string }>(d, '/v1/turns', submit, 202);
  const done = await callJson<TurnAnswer>(d, `/v1/turns/${turnId}/wait?timeoutMs=30000`, { key: d.appKey });
  return { turnId, done };
}

async function newSession(d: Running, userId: string): Promise<string> {
  return (await callJson<{ sessionId: string }>(d, '/v1/sessions', { key: d.appKey, json: { userId } }, 201)).sessionId;
}

/** Everything a client reads of a session and its turns. */
async function readBack(d: Running, sessionId: string, turnIds: string[]): Promise<void> {
  for (const path of [`/v1/sessions/${sessionId}`, `/v1/sessions/${sessionId}/messages?limit=50`, `/v1/sessions/${sessionId}/statistics`]) {
    await callJson(d, path, { key: d.appKey });
  }
  for (const turnId of turnIds) {
    await callJson(d, `/v1/turns/${turnId}`, { key: d.appKey });
    await call(d, `/v1/turns/${turnId}/events`, { key: d.appKey });
    await call(d, `/v1/turns/${turnId}/audio`, { key: d.appKey });
  }
}

async function fullSession(d: Running): Promise<void> {
  const sessionId = await newSession(d, 'leak-full');
  const spoken = await turn(d, audioTurn(sessionId));
  const typed = await turn(d, { sessionId, text: 'E amanhã, vai chover?' });
  expect([spoken.done.status, typed.done.status]).toEqual(['completed', 'completed']);
  await readBack(d, sessionId, [spoken.turnId, typed.turnId]);
}

async function failingSession(d: Running, deployment: Deployment): Promise<void> {
  const sessionId = await newSession(d, 'leak-failing');
  await readBack(d, sessionId, await deployment.failTurns(d, sessionId));
  // Callers with keys that are not voxq's.
  for (const key of [FORGED_KEY, MALFORMED_KEY]) {
    expect((await call(d, '/v1/sessions', { key, json: { userId: 'intruder' } })).status).toBe(401);
    expect((await call(d, '/login', { json: { key } })).status).toBe(401);
    expect((await call(d, '/admin/queues/api/queues', { key })).status).toBe(401);
  }
}

/** Signs in as a browser does and reads every page and API answer of Bull Board; returns the sign-in token. */
async function readBoard(d: Running): Promise<string> {
  const login = await call(d, '/login', { json: { key: d.opsKey } });
  expect(login.status).toBe(200);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = cookieValue(cookie, SESSION_COOKIE);
  if (token === undefined) throw new Error(`no ${SESSION_COOKIE} cookie in ${cookie}`);
  for (const board of ['/admin/queues', '/admin/queues-read-only']) {
    for (const page of ['', ...STAGES.map((q) => `/queue/${q}`)]) expect((await call(d, `${board}${page}`, { cookie })).status).toBe(200);
  }
  await callJson(d, '/admin/queues/api/redis/stats', { cookie });
  for (const queue of STAGES) {
    const listed = await callJson<{ queues: { name: string; jobs: { id: string }[] }[] }>(d, `/admin/queues/api/queues?activeQueue=${queue}&status=latest&jobsPerPage=300`, { cookie });
    const jobs = listed.queues.find((q) => q.name === queue)?.jobs ?? [];
    expect(jobs.length, queue).toBeGreaterThan(0);
    await callJson(d, `/admin/queues/api/queues/${queue}/workers`, { cookie });
    for (const job of jobs) {
      await callJson(d, `/admin/queues/api/queues/${queue}/${encodeURIComponent(job.id)}`, { cookie });
      await callJson(d, `/admin/queues/api/queues/${queue}/${encodeURIComponent(job.id)}/logs`, { cookie });
    }
  }
  return token;
}

/** Each stored value's bytes, by key type: strings, hashes (jobs), lists, sets, sorted sets, streams (turn logs). */
const READ_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  string: ['GET'],
  hash: ['HGETALL'],
  list: ['LRANGE', '0', '-1'],
  set: ['SMEMBERS'],
  zset: ['ZRANGE', '0', '-1', 'WITHSCORES'],
  stream: ['XRANGE', '-', '+'],
};

const flatten = (reply: unknown): Buffer[] => (Array.isArray(reply) ? reply.flatMap(flatten) : Buffer.isBuffer(reply) ? [reply, Buffer.from('\n')] : []);

async function redisPlaces(prefix: string): Promise<Place[]> {
  const redis = new Redis(inject('redisUrl'));
  try {
    const places: Place[] = [];
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      for (const key of keys as string[]) {
        const type = await redis.type(key);
        if (type === 'none') continue; // expired since the scan saw it (a lock, a stalled check)
        const read = READ_BY_TYPE[type];
        if (!read) throw new Error(`Redis key ${key} is a ${type}: the search does not read that type`);
        const [command = 'GET', ...args] = read;
        places.push({ where: `Redis ${type} ${key}`, content: Buffer.concat(flatten(await redis.callBuffer(command, key, ...args))) });
      }
    }
    return places;
  } finally {
    await redis.quit();
  }
}

async function mongoPlaces({ db }: MongoStores): Promise<Place[]> {
  const places: Place[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    for (const doc of await db.collection(name).find({}).toArray()) {
      places.push({ where: `MongoDB ${name} ${String(doc._id)}`, content: Buffer.from(BSON.serialize(doc)) });
    }
  }
  return places;
}

function logPlaces(name: string, p: VoxqProcess): Place[] {
  const lines = p.stderr().split('\n').map((line, i) => ({ where: `${name} stderr line ${i + 1}`, content: Buffer.from(line) }));
  return [...lines, { where: `${name} stdout`, content: Buffer.from(p.stdout()) }];
}

/** Where each secret was found, with the text around it. */
function leaks(places: Place[], secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const { where, content } of places) {
    for (const [name, secret] of Object.entries(secrets)) {
      const at = content.indexOf(secret);
      if (at >= 0) found.push(`${name} in ${where}: …${content.subarray(Math.max(0, at - 120), at + secret.length + 40).toString()}…`);
    }
  }
  return found;
}

const secretOf = (key: string) => parseKey(key)?.secret ?? key;

describe.each(DEPLOYMENTS)('secrets, $name', (deployment) => {
  let d: Running;
  beforeAll(async () => {
    d = await start(deployment);
  });
  afterAll(() => d?.close());

  it('no API key, provider key or sign-in token in any log line, job, span, metric, document, board page or API answer', async () => {
    await fullSession(d);
    await failingSession(d, deployment);
    const signInToken = await readBoard(d);
    const metrics = await call(d, '/metrics', { key: d.opsKey });
    expect(metrics.status).toBe(200);
    await call(d, '/readyz', { key: d.opsKey });

    // A clean stop: every log line written, every span and metric exported.
    d.api.kill('SIGTERM');
    d.worker.kill('SIGTERM');
    expect(await Promise.all([d.api.exited, d.worker.exited])).toEqual([0, 0]);

    const places = [...logPlaces('api', d.api), ...logPlaces('worker', d.worker), ...(await redisPlaces(d.prefix)), ...(await mongoPlaces(d.stores)), ...d.answers];
    for (const { path, body } of d.otlp.bodies) places.push({ where: `OTLP export to ${path}`, content: body });

    // What was searched holds what the sessions left, the failures included.
    const text = (where: RegExp) => places.filter((p) => where.test(p.where)).map((p) => p.content.toString()).join('\n');
    expect(text(/^worker stderr/)).toContain('"msg":"stage failed, will retry"');
    expect(text(/^worker stderr/)).toContain('"msg":"turn failed"');
    expect(text(new RegExp(`^Redis hash ${d.prefix}:llm:`))).toContain('failedReason');
    expect(text(/^MongoDB turns /)).toContain('provider_auth');
    expect(text(/^OTLP export to \/v1\/traces/)).toContain('llm.chat');
    expect(text(/^OTLP export to \/v1\/metrics/)).toContain('voxq.stage.errors');
    expect(metrics.body.toString()).toContain('voxq_queue_depth');
    expect(text(/^API answer to GET \/admin\/queues\/api\/queues\/llm\//)).toContain('"failedReason":"');

    const secrets = {
      GROQ_API_KEY: GROQ_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      'the app API key': secretOf(d.appKey),
      'the operator API key': secretOf(d.opsKey),
      'a forged API key': secretOf(FORGED_KEY),
      'a malformed API key': MALFORMED_KEY,
      'the sign-in token': signInToken,
    };
    const kib = places.reduce((n, p) => n + p.content.length, 0) / 1024;
    console.log(`${deployment.name}: searched ${places.length} places (${kib.toFixed(0)} KiB) for ${Object.keys(secrets).length} secrets`);
    expect(leaks(places, secrets)).toEqual([]);
  });
});
