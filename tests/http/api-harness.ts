// An in-process voxq API for tests: the real API process (fastify, MongoDB key store, Bull Board,
// Prometheus metrics) on a free port, in front of a test pipeline (real Redis under a unique
// prefix, the test database, fake providers) whose workers record into the API's metrics.
import { hostname } from 'node:os';
import type { ApiScope } from '../../src/shared/ports/api-key-store.js';
import { PrometheusMetrics } from '../../src/shared/telemetry/prometheus-metrics.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/workers/worker-process.js';
import { startApiProcess, type ApiProcess } from '../../src/producers/http/api-process.js';
import { quietLogger, startPipeline, type Pipeline, type PipelineOptions } from '../support/pipeline.js';

export interface ApiHarness {
  pipeline: Pipeline;
  api: ApiProcess;
  prom: PrometheusMetrics;
  url: string;
  worker: WorkerProcess | undefined;
  startWorkers(): WorkerProcess;
  /** A new key with these scopes. */
  key(...scopes: ApiScope[]): Promise<string>;
  fetch(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export const HOST = hostname();

export async function startApiHarness(options: Omit<PipelineOptions, 'workers' | 'store'> = {}): Promise<ApiHarness> {
  const pipeline = await startPipeline({ ...options, store: 'mongo', workers: false });
  const prom = new PrometheusMetrics('voxq-api-test');
  const api = await startApiProcess({ config: pipeline.config, port: 0, host: '127.0.0.1', metrics: prom, log: quietLogger() });
  const harness: ApiHarness = {
    pipeline,
    api,
    prom,
    url: api.url,
    worker: undefined,
    startWorkers() {
      harness.worker = startWorkerProcess({
        config: pipeline.config,
        stages: ['stt', 'llm', 'tts'],
        concurrency: 2,
        stores: { ...pipeline.stores, close: () => Promise.resolve() },
        providers: { stt: pipeline.stt, llm: pipeline.llm, tts: pipeline.tts },
        metrics: prom.metrics,
        log: quietLogger(),
      });
      return harness.worker;
    },
    async key(...scopes) {
      return (await api.keys.create({ scopes, name: 'test' })).key;
    },
    fetch(path, init = {}) {
      const { key, json, headers, ...rest } = init;
      const h = new Headers(headers);
      if (key !== undefined) h.set('authorization', `Bearer ${key}`);
      if (json !== undefined) h.set('content-type', 'application/json');
      return fetch(`${api.url}${path}`, { ...rest, headers: h, ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}) });
    },
    async close() {
      await harness.worker?.close();
      await api.close();
      await prom.shutdown();
      // The API's own keys (sign-ins, quota windows, turns in flight) all expire on their own.
      const apiKeys = await pipeline.redis.keys(`${pipeline.prefix}:api:*`);
      const ttls = await Promise.all(apiKeys.map((k) => pipeline.redis.pttl(k)));
      const lasting = apiKeys.filter((_k, i) => (ttls[i] ?? -1) <= 0);
      if (apiKeys.length > 0) await pipeline.redis.del(...apiKeys);
      await pipeline.close();
      if (lasting.length > 0) throw new Error(`API keys without a TTL were left in Redis: ${lasting.join(', ')}`);
    },
  };
  return harness;
}

/** Asserts an error body: the code, a message, a request id, and nothing else (no stack). */
export async function expectError(response: Response, status: number, code: string): Promise<{ code: string; message: string }> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status} ${code}, got ${response.status}: ${text}`);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (body.code !== code) throw new Error(`expected code ${code}, got ${text}`);
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'code,message,requestId') throw new Error(`unexpected error body fields ${keys}: ${text}`);
  if (/\n\s+at /.test(text) || text.includes('.ts:') || text.includes('.js:')) throw new Error(`error body leaks a stack: ${text}`);
  return body as { code: string; message: string };
}
