// An OTLP/HTTP receiver for tests and benchmarks: what a collector would get from voxq's
// exporters, flattened into one list of spans. It accepts `POST /v1/traces` in both encodings
// the Node SDK speaks — OTLP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and protobuf (the
// SDK's default, http/protobuf) — gzip or not. Metrics and logs posts are answered and counted,
// not decoded. Put `r.url` in OTEL_EXPORTER_OTLP_ENDPOINT: the exporters append /v1/traces.
// `deferDecoding`: bodies are kept and decoded when spans are first read, so a benchmark's
// collector does not take CPU from what it measures (a real collector runs elsewhere).
// `keepBodies`: every export's body (traces, metrics, logs) is kept as it came, unzipped, for
// tests that search everything a process exported (secret-leak.test.ts).
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type OtlpAttributeValue = string | number | boolean | null | OtlpAttributeValue[] | { [key: string]: OtlpAttributeValue };
export type OtlpAttributes = Record<string, OtlpAttributeValue>;

/** OTLP's SpanKind names (OTLP numbers them one above @opentelemetry/api's SpanKind). */
export type OtlpSpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type OtlpStatusCode = 'unset' | 'ok' | 'error';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: OtlpSpanKind;
  /** The resource's service.name. */
  serviceName: string | undefined;
  scopeName: string | undefined;
  attributes: OtlpAttributes;
  events: { name: string; attributes: OtlpAttributes }[];
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  status: { code: OtlpStatusCode; message: string | undefined };
}

export interface ReceivedRequest {
  path: string;
  encoding: 'json' | 'protobuf';
  gzip: boolean;
  /** Spans decoded from it (0 for metrics and logs, which are not decoded). */
  spanCount: number;
}

export interface OtlpReceiver {
  /** Base endpoint (`http://127.0.0.1:<port>`) for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[];
  readonly requests: readonly ReceivedRequest[];
  /** Resolves with the spans once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<readonly ReceivedSpan[]>;
  /** With `keepBodies`: every export's body, unzipped, in arrival order. */
  readonly bodies: readonly { path: string; body: Buffer }[];
  /** Forgets what was received (between tests sharing a receiver). */
  clear(): void;
  close(): Promise<void>;
}

const KINDS: readonly OtlpSpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_CODES: readonly OtlpStatusCode[] = ['unset', 'ok', 'error'];

export interface OtlpReceiverOptions {
  deferDecoding?: boolean;
  keepBodies?: boolean;
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  const bodies: { path: string; body: Buffer }[] = [];
  const undecoded: { request: ReceivedRequest; body: Buffer }[] = [];
  /** Decodes what was kept; a body that does not decode is reported after the others are in. */
  const decodePending = () => {
    let failure: unknown;
    for (const { request, body } of undecoded.splice(0)) {
      try {
        const batch = decodeTraces(request, body);
        spans.push(...batch);
        request.spanCount = batch.length;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure) throw new Error(`OTLP receiver: a kept export did not decode: ${failure instanceof Error ? failure.message : 'unknown error'}`, { cause: failure });
  };
  const received = new EventEmitter();
  received.setMaxListeners(0);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? error.message : String(error));
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'POST' || !['/v1/traces', '/v1/metrics', '/v1/logs'].includes(path)) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: ReceivedRequest = {
      path,
      encoding: (req.headers['content-type'] ?? '').includes('json') ? 'json' : 'protobuf',
      gzip: req.headers['content-encoding'] === 'gzip',
      spanCount: 0,
    };
    requests.push(request);
    const body = Buffer.concat(chunks);
    if (options.keepBodies) bodies.push({ path, body: request.gzip ? gunzipSync(body) : body });
    let batch: ReceivedSpan[] = [];
    if (path === '/v1/traces' && options.deferDecoding) undecoded.push({ request, body });
    else if (path === '/v1/traces') {
      batch = decodeTraces(request, body);
      spans.push(...batch);
      request.spanCount = batch.length;
    }
    const { encoding } = request;
    // An empty ExportServiceResponse: `{}` in JSON, zero bytes in protobuf.
    if (encoding === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    if (batch.length > 0 || undecoded.length > 0) received.emit('spans');
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    get spans() {
      decodePending();
      return spans;
    },
    get requests() {
      decodePending();
      return requests;
    },
    bodies,
    waitFor(predicate, timeoutMs = 10_000) {
      decodePending();
      if (predicate(spans)) return Promise.resolve(spans);
      return new Promise((resolve, reject) => {
        const onSpans = () => {
          decodePending();
          if (!predicate(spans)) return;
          clearTimeout(timer);
          received.off('spans', onSpans);
          resolve(spans);
        };
        const timer = setTimeout(() => {
          received.off('spans', onSpans);
          const names = spans.map((s) => s.name).join(', ');
          reject(new Error(`OTLP receiver: condition not met within ${timeoutMs}ms; ${spans.length} spans received: ${names}`));
        }, timeoutMs);
        received.on('spans', onSpans);
      });
    },
    clear() {
      spans.length = 0;
      requests.length = 0;
      bodies.length = 0;
      undecoded.length = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function decodeTraces(request: ReceivedRequest, raw: Buffer): ReceivedSpan[] {
  const body = request.gzip ? gunzipSync(raw) : raw;
  return request.encoding === 'json' ? spansFromJson(body) : spansFromProtobuf(body);
}

// ---------------------------------------------------------------------------------------------
// Parent/child relations of one trace, for assertions.

export interface SpanNode {
  span: ReceivedSpan;
  children: SpanNode[];
}

export interface SpanTree {
  /** Spans of the trace whose parent is absent (the root, or orphans when spans are missing). */
  roots: SpanNode[];
  spans: ReceivedSpan[];
  parent(span: ReceivedSpan): ReceivedSpan | undefined;
  children(span: ReceivedSpan): ReceivedSpan[];
  /** Nearest first. */
  ancestors(span: ReceivedSpan): ReceivedSpan[];
  isDescendant(span: ReceivedSpan, ancestor: ReceivedSpan): boolean;
  /** The one span of this name; throws when there are none or several. */
  one(name: string): ReceivedSpan;
  /** Indented names, one span a line: handy in failure messages. */
  render(): string;
}

export function spanTree(all: readonly ReceivedSpan[], traceId: string): SpanTree {
  const spans = all.filter((s) => s.traceId === traceId);
  const nodes = new Map<string, SpanNode>(spans.map((s) => [s.spanId, { span: s, children: [] }]));
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === undefined ? undefined : nodes.get(node.span.parentSpanId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: SpanNode, b: SpanNode) => (a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : 1);
  roots.sort(byStart);
  for (const node of nodes.values()) node.children.sort(byStart);

  const parent = (span: ReceivedSpan) => (span.parentSpanId === undefined ? undefined : nodes.get(span.parentSpanId)?.span);
  const ancestors = (span: ReceivedSpan) => {
    const found: ReceivedSpan[] = [];
    for (let p = parent(span); p && !found.includes(p); p = parent(p)) found.push(p);
    return found;
  };
  const render = () => {
    const lines: string[] = [];
    const walk = (node: SpanNode, depth: number) => {
      lines.push(`${'  '.repeat(depth)}${node.span.name} [${node.span.kind}]`);
      for (const child of node.children) walk(child, depth + 1);
    };
    for (const root of roots) walk(root, 0);
    return lines.join('\n');
  };
  return {
    roots,
    spans,
    parent,
    children: (span) => nodes.get(span.spanId)?.children.map((c) => c.span) ?? [],
    ancestors,
    isDescendant: (span, ancestor) => ancestors(span).some((a) => a.spanId === ancestor.spanId),
    one(name) {
      const matches = spans.filter((s) => s.name === name);
      if (matches.length !== 1) throw new Error(`expected one span named ${name}, found ${matches.length} in:\n${render()}`);
      return matches[0] as ReceivedSpan;
    },
    render,
  };
}

// ---------------------------------------------------------------------------------------------
// OTLP JSON (the exporter's JSON encoder: hex ids, nanosecond times as decimal strings).

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[];
  }[];
}

function jsonValue(value: JsonAnyValue | undefined): OtlpAttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(jsonValue);
  if (value.kvlistValue) return jsonAttributes(value.kvlistValue.values);
  return null;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): OtlpAttributes {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

/** Ids arrive as hex; tolerate base64 (the proto3 JSON mapping of bytes) from other senders. */
function jsonId(id: string | undefined, bytes: number): string | undefined {
  if (id === undefined || id === '') return undefined;
  if (id.length === bytes * 2 && /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function spansFromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as JsonRequest;
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: jsonId(s.traceId, 16) ?? '',
          spanId: jsonId(s.spanId, 8) ?? '',
          parentSpanId: jsonId(s.parentSpanId, 8),
          name: s.name,
          kind: KINDS[s.kind ?? 0] ?? 'unspecified',
          serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined,
          scopeName: ss.scope?.name,
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          startTimeUnixNano: BigInt(s.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(s.endTimeUnixNano ?? 0),
          status: { code: STATUS_CODES[s.status?.code ?? 0] ?? 'unset', message: s.status?.message || undefined },
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// OTLP protobuf: a small wire-format reader for the fields of ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1, trace/v1, common/v1, resource/v1). Unknown fields
// are skipped, so newer senders still decode.

type Field = { no: number; wire: 0; value: bigint } | { no: number; wire: 1 | 5; value: Buffer } | { no: number; wire: 2; value: Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const byte = buf[pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new Error('protobuf: truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) yield { no, wire, value: take(8) };
    else if (wire === 5) yield { no, wire, value: take(4) };
    else if (wire === 2) yield { no, wire, value: take(Number(varint())) };
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}

const utf8 = (b: Buffer) => b.toString('utf8');

function pbAnyValue(buf: Buffer): OtlpAttributeValue {
  let value: OtlpAttributeValue = null;
  for (const f of fields(buf)) {
    if (f.no === 1 && f.wire === 2) value = utf8(f.value);
    else if (f.no === 2 && f.wire === 0) value = f.value !== 0n;
    else if (f.no === 3 && f.wire === 0) value = Number(BigInt.asIntN(64, f.value));
    else if (f.no === 4 && f.wire === 1) value = f.value.readDoubleLE(0);
    else if (f.no === 5 && f.wire === 2) value = [...fields(f.value)].filter((v) => v.no === 1 && v.wire === 2).map((v) => pbAnyValue(v.value as Buffer));
    else if (f.no === 6 && f.wire === 2) value = pbAttributes(f.value, 1);
    else if (f.no === 7 && f.wire === 2) value = f.value.toString('base64');
  }
  return value;
}

function pbKeyValue(buf: Buffer): [string, OtlpAttributeValue] {
  let key = '';
  let value: OtlpAttributeValue = null;
  for (const f of fields(buf)) {
    if (f.no === 1 && f.wire === 2) key = utf8(f.value);
    else if (f.no === 2 && f.wire === 2) value = pbAnyValue(f.value);
  }
  return [key, value];
}

/** The repeated KeyValue field `fieldNo` of a message, as a plain object. */
function pbAttributes(buf: Buffer, fieldNo: number): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const f of fields(buf)) {
    if (f.no === fieldNo && f.wire === 2) {
      const [k, v] = pbKeyValue(f.value);
      out[k] = v;
    }
  }
  return out;
}

function pbSpan(buf: Buffer, serviceName: string | undefined, scopeName: string | undefined): ReceivedSpan {
  const span: ReceivedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: undefined,
    name: '',
    kind: 'unspecified',
    serviceName,
    scopeName,
    attributes: {},
    events: [],
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    status: { code: 'unset', message: undefined },
  };
  for (const f of fields(buf)) {
    if (f.wire === 2) {
      if (f.no === 1) span.traceId = f.value.toString('hex');
      else if (f.no === 2) span.spanId = f.value.toString('hex');
      else if (f.no === 4 && f.value.length > 0) span.parentSpanId = f.value.toString('hex');
      else if (f.no === 5) span.name = utf8(f.value);
      else if (f.no === 9) {
        const [k, v] = pbKeyValue(f.value);
        span.attributes[k] = v;
      } else if (f.no === 11) {
        let name = '';
        for (const e of fields(f.value)) if (e.no === 2 && e.wire === 2) name = utf8(e.value);
        span.events.push({ name, attributes: pbAttributes(f.value, 3) });
      } else if (f.no === 15) {
        for (const s of fields(f.value)) {
          if (s.no === 2 && s.wire === 2) span.status.message = utf8(s.value) || undefined;
          else if (s.no === 3 && s.wire === 0) span.status.code = STATUS_CODES[Number(s.value)] ?? 'unset';
        }
      }
    } else if (f.wire === 0 && f.no === 6) span.kind = KINDS[Number(f.value)] ?? 'unspecified';
    else if (f.wire === 1 && f.no === 7) span.startTimeUnixNano = f.value.readBigUInt64LE(0);
    else if (f.wire === 1 && f.no === 8) span.endTimeUnixNano = f.value.readBigUInt64LE(0);
  }
  return span;
}

function spansFromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1 || rs.wire !== 2) continue;
    // Resource first (field 1), whatever order the fields arrive in.
    let serviceName: string | undefined;
    for (const f of fields(rs.value)) {
      if (f.no === 1 && f.wire === 2) {
        const name = pbAttributes(f.value, 1)['service.name'];
        if (typeof name === 'string') serviceName = name;
      }
    }
    for (const ss of fields(rs.value)) {
      if (ss.no !== 2 || ss.wire !== 2) continue;
      let scopeName: string | undefined;
      for (const f of fields(ss.value)) {
        if (f.no === 1 && f.wire === 2) for (const s of fields(f.value)) if (s.no === 1 && s.wire === 2) scopeName = utf8(s.value);
      }
      for (const f of fields(ss.value)) if (f.no === 2 && f.wire === 2) out.push(pbSpan(f.value, serviceName, scopeName));
    }
  }
  return out;
}

/** The environment that makes a voxq process export its spans to `url` (JSON, flushed every 200 ms), and nothing else. */
export function otlpProcessEnv(url: string): Record<string, string> {
  return {
    OTEL_SDK_DISABLED: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
}
