// Every environment variable voxq reads, validated once at start (zod). The README's
// configuration table lists the same variables; keep the two in step.
import { z } from 'zod';

export const DEFAULT_SYSTEM_PROMPT =
  'Você é um assistente de voz prestativo. Responda em português do Brasil, em frases curtas e naturais, ' +
  'sem listas nem formatação, pois a resposta será falada.';

const providerName = z.enum(['groq', 'openai', 'speech-native', 'espeak', 'kokoro', 'fake']);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
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
  VOXQ_TTS: providerName.default('espeak'),
  VOXQ_STT_MODEL: z.string().min(1).default('whisper-large-v3-turbo'),
  /** The STT provider's limits (Groq's free tier); 0 turns a limit off. Applied to every STT call of a non-fake provider. */
  VOXQ_STT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  VOXQ_STT_AUDIO_SECONDS_PER_HOUR: z.coerce.number().int().min(0).default(7200),
  VOXQ_STT_MAX_FILE_BYTES: positiveInt(25 * 1024 * 1024),
  VOXQ_LLM_MODEL: z.string().min(1).default('openai/gpt-oss-20b'),
  VOXQ_LLM_REASONING_EFFORT: z.enum(['low', 'medium', 'high']).default('low'),
  GROQ_API_KEY: optionalString,
  GROQ_BASE_URL: optionalString.pipe(z.url().optional()),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalString.pipe(z.url().optional()),
  VOXQ_LANGUAGE: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP-47 tag such as pt-BR').default('pt-BR'),
  VOXQ_VOICE: z.string().min(1).default('pf_dora'),
  VOXQ_SYSTEM_PROMPT: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
  VOXQ_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  VOXQ_MAX_TOKENS: positiveInt(500),
  VOXQ_CONTEXT_MESSAGES: positiveInt(10),
  VOXQ_STAGE_ATTEMPTS: positiveInt(4),
  VOXQ_STAGE_TIMEOUT_MS: positiveInt(60_000),
  VOXQ_LOCK_DURATION_MS: positiveInt(30_000),
  VOXQ_GPUS: optionalString,
  /** model:residentMb:jobMb,… added to (or overriding) the built-in GPU memory profiles. */
  VOXQ_GPU_PROFILES: optionalString.pipe(
    z.string().regex(/^[^,:]+(:[^,:]+)*:\d+:\d+(,[^,:]+(:[^,:]+)*:\d+:\d+)*$/, 'must be model:residentMb:jobMb[,…]').optional(),
  ),
  VOXQ_GPU_LEASE_TTL_MS: positiveInt(15_000),
  VOXQ_KOKORO_MODEL_DIR: optionalString,
  VOXQ_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VOXQ_API_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  VOXQ_API_HOST: z.string().min(1).default('127.0.0.1'),
  VOXQ_API_BODY_LIMIT_BYTES: positiveInt(1_048_576),
});

export type Config = z.infer<typeof configSchema>;
export type ProviderName = z.infer<typeof providerName>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
