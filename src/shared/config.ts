// Every environment variable voxq reads, validated once at start (zod). The README's
// configuration table lists the same variables; keep the two in step.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { VoxqError } from './errors.js';

export const DEFAULT_SYSTEM_PROMPT =
  'Você é um assistente de voz prestativo. Responda em português do Brasil, em frases curtas e naturais, ' +
  'sem listas nem formatação, pois a resposta será falada.';

const providerName = z.enum(['groq', 'openai', 'speech-native', 'espeak', 'kokoro', 'fake']);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** true/false (also 1/0, yes/no); unset or empty → the fallback. */
const envBoolean = (fallback: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(fallback),
  );

const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback);

/** What VOXQ_STT_LIVE_RESERVE compiles to: a share of the request limit, or a number of requests per minute. */
export type LiveReserve = { percent: number } | { requests: number };

/** `20%` (of VOXQ_STT_REQUESTS_PER_MINUTE) or a whole number of requests per minute; unset or empty → 20%. */
const liveReserve = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? '20%' : v.trim()))
  .pipe(
    z
      .string()
      .regex(/^(\d+(\.\d+)?%|\d+)$/, 'must be a number of requests per minute (e.g. 4) or a percentage of VOXQ_STT_REQUESTS_PER_MINUTE (e.g. 20%)'),
  )
  .transform((v): LiveReserve => (v.endsWith('%') ? { percent: Number(v.slice(0, -1)) } : { requests: Number(v) }))
  .refine((r) => !('percent' in r) || r.percent < 100, 'must be under 100%: batch work needs a share of the limit');

/** A Redis Cluster's seed nodes and what every connection to its nodes carries (ioredis: one set for all nodes). */
export interface ClusterNodes {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * `host:port,host:port,…`, each entry also `redis://` or `rediss://` with credentials; the
 * credentials and scheme, where given, must agree (ioredis applies one set to every node).
 */
const clusterNodes = optionalString.transform((value, ctx): ClusterNodes | undefined => {
  if (value === undefined) return undefined;
  const parsed: ClusterNodes = { nodes: [], tls: false };
  const seen = new Set<string>();
  for (const raw of value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')) {
    const scheme = /^rediss?:\/\//.exec(raw)?.[0];
    let url: URL;
    try {
      url = new URL(scheme ? raw : `redis://${raw}`);
    } catch {
      url = new URL('invalid://');
    }
    const port = Number(url.port);
    if (url.protocol === 'invalid:' || url.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65_535 || (url.pathname !== '' && url.pathname !== '/')) {
      ctx.addIssue({ code: 'custom', message: `entry "${raw.replace(/\/\/[^@/]*@/, '//…@')}" is not host:port or redis[s]://[user:password@]host:port` });
      return z.NEVER;
    }
    const tls = url.protocol === 'rediss:';
    const username = url.username === '' ? undefined : decodeURIComponent(url.username);
    const password = url.password === '' ? undefined : decodeURIComponent(url.password);
    if (scheme) {
      if (parsed.nodes.length > 0 && seen.has('scheme') && parsed.tls !== tls) {
        ctx.addIssue({ code: 'custom', message: 'mixes redis:// and rediss:// entries: every node of one cluster is reached the same way' });
        return z.NEVER;
      }
      seen.add('scheme');
      parsed.tls = tls;
    }
    for (const [field, given] of [['username', username], ['password', password]] as const) {
      if (given === undefined) continue;
      if (parsed[field] !== undefined && parsed[field] !== given) {
        ctx.addIssue({ code: 'custom', message: `entries carry different ${field}s: ioredis uses one for every node of the cluster` });
        return z.NEVER;
      }
      parsed[field] = given;
    }
    parsed.nodes.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port });
  }
  if (parsed.nodes.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no node: host:port[,host:port…]' });
    return z.NEVER;
  }
  return parsed;
});

export const configSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  /** Set: every connection goes to this Redis Cluster (REDIS_URL is not used). */
  VOXQ_REDIS_CLUSTER_NODES: clusterNodes,
  /** Each stage split into this many queues, each with its own hash tag (see src/shared/shards/). */
  VOXQ_QUEUE_SHARDS: z.coerce.number().int().min(1).max(256).default(1),
  MONGO_URL: optionalString.pipe(
    z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
  ),
  VOXQ_MONGO_DB: z.string().min(1).default('voxq'),
  VOXQ_PREFIX: z
    .string()
    .min(1)
    .regex(/^[^:\s]+$/, 'must not contain ":" or spaces')
    .default('voxq'),
  VOXQ_STT: providerName.default('groq'),
  VOXQ_LLM: providerName.default('groq'),
  /** Unset: Kokoro when its model is on this machine (VOXQ_KOKORO_MODEL_DIR or a cached download), else espeak-ng. */
  VOXQ_TTS: optionalString.pipe(providerName.optional()),
  VOXQ_STT_MODEL: z.string().min(1).default('whisper-large-v3-turbo'),
  /** The STT provider's limits (Groq's free tier); 0 turns a limit off. Applied to every STT call of a non-fake provider. */
  VOXQ_STT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  VOXQ_STT_AUDIO_SECONDS_PER_HOUR: z.coerce.number().int().min(0).default(7200),
  /** Of both limits, what batch work leaves to live turns (batch: the limit minus this); see LiveReserve. */
  VOXQ_STT_LIVE_RESERVE: liveReserve,
  VOXQ_STT_MAX_FILE_BYTES: positiveInt(25 * 1024 * 1024),
  VOXQ_LLM_MODEL: z.string().min(1).default('openai/gpt-oss-20b'),
  VOXQ_LLM_REASONING_EFFORT: z.enum(['low', 'medium', 'high']).default('low'),
  GROQ_API_KEY: optionalString,
  GROQ_BASE_URL: optionalString.pipe(z.url().optional()),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  /** VOXQ_STT/LLM/TTS=openai: one model and (optionally) one server per role; an unset base URL → OPENAI_BASE_URL. */
  VOXQ_OPENAI_STT_MODEL: z.string().min(1).default('whisper-1'),
  VOXQ_OPENAI_STT_BASE_URL: optionalString.pipe(z.url().optional()),
  VOXQ_OPENAI_LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  VOXQ_OPENAI_LLM_BASE_URL: optionalString.pipe(z.url().optional()),
  VOXQ_OPENAI_TTS_MODEL: z.string().min(1).default('tts-1'),
  VOXQ_OPENAI_TTS_BASE_URL: optionalString.pipe(z.url().optional()),
  VOXQ_OPENAI_TTS_FORMAT: z.enum(['wav', 'mp3', 'opus']).default('wav'),
  VOXQ_OPENAI_TTS_SAMPLE_RATE_HZ: positiveInt(24_000),
  /** voxqVoice:serverVoice,… ; a voice not listed is sent as it is (Kokoro-FastAPI takes pf_dora). */
  VOXQ_OPENAI_TTS_VOICE_MAP: optionalString.pipe(
    z.string().regex(/^[^,:\s]+:[^,:\s]+(,[^,:\s]+:[^,:\s]+)*$/, 'must be voxqVoice:serverVoice[,…]').optional(),
  ),
  /** VOXQ_LLM=speech-native: a model that takes the turn's audio in the chat request (audio → llm → tts). */
  VOXQ_SPEECH_LLM_MODEL: z.string().min(1).default('fixie-ai/ultravox-v0_5-llama-3_1-8b'),
  /** Unset → OPENAI_BASE_URL. */
  VOXQ_SPEECH_LLM_BASE_URL: optionalString.pipe(z.url().optional()),
  /** The server also serves audio/transcriptions for that model: the LLM stage records the transcript, no STT job. */
  VOXQ_SPEECH_LLM_TRANSCRIBES: envBoolean(false),
  VOXQ_LANGUAGE: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP-47 tag such as pt-BR').default('pt-BR'),
  VOXQ_VOICE: z.string().min(1).default('pf_dora'),
  VOXQ_SYSTEM_PROMPT: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
  VOXQ_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  VOXQ_MAX_TOKENS: positiveInt(500),
  VOXQ_CONTEXT_MESSAGES: positiveInt(10),
  /** Replies streamed sentence by sentence (one TTS job per sentence); false: one TTS call for the whole reply. */
  VOXQ_STREAMING: envBoolean(true),
  /** How long a finished turn's event log and live state stay in Redis (for replays); then the record answers. */
  VOXQ_EVENT_LOG_TTL_MS: positiveInt(600_000),
  /** A sentence's audio up to this size travels inside its event; larger chunks are read from the audio store. */
  VOXQ_EVENT_AUDIO_MAX_BYTES: positiveInt(2 * 1024 * 1024),
  VOXQ_STAGE_ATTEMPTS: positiveInt(4),
  VOXQ_STAGE_TIMEOUT_MS: positiveInt(60_000),
  /** BullMQ job lock: a killed worker's job runs again elsewhere within about 1.5× this (stalled check every half). */
  VOXQ_LOCK_DURATION_MS: positiveInt(3_000),
  /** How long a stage waits out MongoDB or Redis being unreachable (retrying with backoff, no attempt spent) before its turn fails. */
  VOXQ_OUTAGE_TOLERANCE_MS: z.coerce.number().int().min(60_000).default(120_000),
  /** Sessions with no activity for this many days are erased (with their turns, messages, audio); unset: kept. */
  VOXQ_RETENTION_DAYS: z.coerce.number().positive().optional(),
  /** How often one worker process looks for turns with no live job (src/workers/turn-reconciler.ts). */
  VOXQ_RECONCILE_INTERVAL_MS: positiveInt(5_000),
  /** A turn younger than this is left to its own jobs by the reconciler. */
  VOXQ_RECONCILE_GRACE_MS: positiveInt(10_000),
  VOXQ_GPUS: optionalString,
  /** model:residentMb:jobMb,… added to (or overriding) the built-in GPU memory profiles. */
  VOXQ_GPU_PROFILES: optionalString.pipe(
    z.string().regex(/^[^,:]+(:[^,:]+)*:\d+:\d+(,[^,:]+(:[^,:]+)*:\d+:\d+)*$/, 'must be model:residentMb:jobMb[,…]').optional(),
  ),
  VOXQ_GPU_LEASE_TTL_MS: positiveInt(15_000),
  /** A job that finds its card short waits this long on the card's list to be handed memory, then goes back to the queue. */
  VOXQ_GPU_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** The machine whose GPUs this process uses (the GPU ledger's key); unset: /etc/machine-id, else the hostname. See gpu/host-id.ts. */
  VOXQ_HOST_ID: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1 to 128 letters, digits, ".", "_" or "-" (it names the GPU box in Redis keys)')
      .optional(),
  ),
  VOXQ_KOKORO_MODEL: z.string().min(1).default('onnx-community/Kokoro-82M-v1.0-ONNX'),
  VOXQ_KOKORO_MODEL_DIR: optionalString,
  VOXQ_KOKORO_CACHE_DIR: z.string().min(1).default(join(homedir(), '.cache', 'voxq', 'models')),
  VOXQ_KOKORO_HUB_URL: optionalString.pipe(z.url().optional()),
  VOXQ_KOKORO_DTYPE: z.enum(['fp32', 'fp16', 'q8', 'q4']).default('q8'),
  VOXQ_KOKORO_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  VOXQ_KOKORO_THREADS: z.coerce.number().int().min(0).max(64).default(1),
  /** onnxruntime intra-op threads per synthesis thread; unset: the cores but one, shared by the synthesis threads. */
  VOXQ_KOKORO_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  VOXQ_KOKORO_FORMAT: z.enum(['wav', 'opus', 'mp3']).default('wav'),
  VOXQ_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VOXQ_API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  VOXQ_API_HOST: z.string().min(1).default('127.0.0.1'),
  VOXQ_API_BODY_LIMIT_BYTES: positiveInt(1_048_576),
  /** Audio uploads one API process receives at once (more answer 503): upload memory stays under this × 25 MiB. */
  VOXQ_API_MAX_UPLOADS: positiveInt(16),
  /** A request must arrive whole (headers and body) within this, or 408 and its connection closed; 0: no limit. */
  VOXQ_API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Behind a TLS-terminating proxy: X-Forwarded-Proto/-For/-Host are believed (sign-in cookies get Secure over https). */
  VOXQ_TRUST_PROXY: envBoolean(false),
  /** How long a browser sign-in (the voxq_session cookie's server-side session) lasts. */
  VOXQ_API_SIGN_IN_TTL_MS: z.coerce.number().int().min(60_000).max(30 * 24 * 3600 * 1000).default(12 * 3600 * 1000),
  /** A trace UI's address for one turn, `{traceId}` (and optionally `{turnId}`) filled in: the console links each turn to its trace. */
  VOXQ_TRACE_URL_TEMPLATE: optionalString.pipe(
    z
      .string()
      .regex(/^https?:\/\/\S*\{(traceId|turnId)\}\S*$/, 'must be an http(s) address with {traceId} or {turnId} in it, e.g. http://localhost:16686/trace/{traceId}')
      .optional(),
  ),
}).superRefine((config, ctx) => {
  // The shards' hash tags place every key; a tag in the prefix would come first and put them all in one slot.
  const sharded = config.VOXQ_REDIS_CLUSTER_NODES !== undefined || config.VOXQ_QUEUE_SHARDS > 1;
  if (sharded && typeof config.VOXQ_PREFIX === 'string' && /[{}]/.test(config.VOXQ_PREFIX)) {
    ctx.addIssue({ code: 'custom', path: ['VOXQ_PREFIX'], message: 'must hold no hash tag ({…}) with VOXQ_REDIS_CLUSTER_NODES or VOXQ_QUEUE_SHARDS > 1: each queue shard has a tag of its own, and one in the prefix would put every key in one slot' });
  }
  // A reserve given as requests is checked against the request limit it is taken from (once both parsed).
  const reserve: unknown = config.VOXQ_STT_LIVE_RESERVE;
  const limit: unknown = config.VOXQ_STT_REQUESTS_PER_MINUTE;
  if (typeof reserve !== 'object' || reserve === null || !('requests' in reserve) || typeof limit !== 'number') return;
  if (reserve.requests === 0) return;
  if (limit === 0) {
    ctx.addIssue({ code: 'custom', path: ['VOXQ_STT_LIVE_RESERVE'], message: 'is a number of requests, but VOXQ_STT_REQUESTS_PER_MINUTE is 0 (no request limit): give it as a percentage (e.g. 20%)' });
  } else if (Number(reserve.requests) >= limit) {
    ctx.addIssue({ code: 'custom', path: ['VOXQ_STT_LIVE_RESERVE'], message: `must be under VOXQ_STT_REQUESTS_PER_MINUTE (${limit}): batch work needs a share of the limit` });
  }
});

export type Config = z.infer<typeof configSchema>;
export type ProviderName = z.infer<typeof providerName>;

/** A setting is wrong (a bad variable, a password Redis refuses): fix the configuration; retrying will not help. */
export class ConfigError extends VoxqError {
  override readonly name = 'ConfigError';
  constructor(message: string, code = 'invalid_config') {
    super(code, message);
  }
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/** MONGO_URL is required by everything but the demo; this names the variable when it is missing. */
export function requireMongoUrl(config: Config): string {
  if (!config.MONGO_URL) {
    throw new ConfigError(
      'MONGO_URL is not set: point it at MongoDB (e.g. mongodb://127.0.0.1:27017/voxq), or run `voxq demo`, which starts the bundled test database',
    );
  }
  return config.MONGO_URL;
}
