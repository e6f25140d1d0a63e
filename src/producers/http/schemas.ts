// The API's request and response shapes (zod): handlers validate with them and the OpenAPI
// document is generated from them. They reuse the turn contracts' field schemas.
import { z } from 'zod';
import { MAX_TEXT_CHARS } from '../../shared/contracts/turn-request.js';
import {
  languageSchema,
  llmOverridesSchema,
  routeOf,
  sessionIdSchema,
  stageNameSchema,
  turnErrorSchema,
  turnIdSchema,
  turnRouteSchema,
  turnStatusSchema,
  type Turn,
} from '../../shared/contracts/turn.js';
import type { Session } from '../../shared/ports/session-manager.js';
import type { StoredMessage, ConversationStatistics } from '../../shared/ports/conversation-store.js';
import { timingOf } from '../sdk/turn-result.js';

export const API_PREFIX = '/v1';

export const createSessionBodySchema = z.strictObject({
  userId: z.string().trim().min(1).max(200),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const turnOptionFields = {
  sessionId: sessionIdSchema,
  voice: z.string().min(1).max(100).optional(),
  language: languageSchema.optional(),
  speed: z.number().min(0.5).max(2).optional(),
  llm: llmOverridesSchema.optional(),
  /** Idempotency key: submitting the same turnId twice gives the same turn. */
  turnId: turnIdSchema.optional(),
  /** Barge-in: cancel the session's turns in flight before this one runs. */
  bargeIn: z.boolean().optional(),
};

/** POST /v1/sessions/{id}/cancel: how much reply audio the client played (absent: the chunks read count as heard). */
export const cancelBodySchema = z.strictObject({
  playedMs: z.number().nonnegative().max(24 * 3600 * 1000).optional(),
});
export const cancelViewSchema = z.object({ cancelled: z.boolean() });
/** POST /v1/turns/{id}/heard: how much of the reply's audio the client played. */
export const heardBodySchema = z.strictObject({ playedMs: z.number().nonnegative().max(24 * 3600 * 1000) });
export const heardViewSchema = z.object({ cut: z.boolean() });
export const sentenceParamsSchema = z.strictObject({ turnId: turnIdSchema, index: z.coerce.number().int().min(0).max(10_000) });

/** POST /v1/turns as JSON: a text turn. */
export const textTurnBodySchema = z.strictObject({
  ...turnOptionFields,
  text: z.string().trim().min(1, 'text is empty').max(MAX_TEXT_CHARS, `text is longer than ${MAX_TEXT_CHARS} characters`),
});

/** POST /v1/turns as multipart/form-data: the `audio` file part plus these text fields. */
export const audioTurnFieldsSchema = z.strictObject({
  ...turnOptionFields,
  speed: z.coerce.number().min(0.5).max(2).optional(),
  bargeIn: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  llm: z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'llm must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(llmOverridesSchema)
    .optional(),
});

/** The multipart form as documented (the file part included). */
export const audioTurnFormSchema = z.object({
  audio: z.string().meta({ format: 'binary', description: 'the recording (any format ffmpeg reads, 25 MB at most)' }),
  sessionId: sessionIdSchema,
  voice: z.string().optional(),
  language: z.string().optional(),
  speed: z.string().optional().meta({ description: 'a number from 0.5 to 2' }),
  llm: z.string().optional().meta({ description: 'JSON: {"systemPrompt","temperature","maxTokens"}' }),
  turnId: turnIdSchema.optional(),
  bargeIn: z.enum(['true', 'false']).optional().meta({ description: 'true: cancel the session\'s turns in flight first' }),
});

export const sessionParamsSchema = z.strictObject({ sessionId: sessionIdSchema });
export const turnParamsSchema = z.strictObject({ turnId: turnIdSchema });
export const messagesQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() });
export const MAX_WAIT_MS = 60_000;
export const waitQuerySchema = z.strictObject({ timeoutMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(25_000) });

export const errorBodySchema = z.object({ code: z.string(), message: z.string(), requestId: z.string() });

export const sessionViewSchema = z.object({
  sessionId: sessionIdSchema,
  userId: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
  lastActivityAt: z.iso.datetime(),
  interactionCount: z.number().int(),
});

const stageTimingViewSchema = z.object({ queueWaitMs: z.number(), workMs: z.number(), attempts: z.number().int() });

export const turnViewSchema = z.object({
  turnId: turnIdSchema,
  sessionId: sessionIdSchema,
  status: turnStatusSchema,
  route: turnRouteSchema.meta({
    description: 'the stages the turn goes through: stt-llm-tts, audio-llm-tts (a speech-native LLM hears the audio) or text-llm-tts',
  }),
  input: z.object({ kind: z.enum(['audio', 'text']), mimeType: z.string().optional(), sizeBytes: z.number().optional(), durationMs: z.number().optional() }),
  stagesDone: z.array(stageNameSchema),
  transcription: z.string().optional(),
  replyText: z.string().optional(),
  replyAudio: z.object({ url: z.string(), mimeType: z.string(), sizeBytes: z.number(), durationMs: z.number() }).optional(),
  error: turnErrorSchema.optional(),
  timing: z.object({ stt: stageTimingViewSchema.optional(), llm: stageTimingViewSchema.optional(), tts: stageTimingViewSchema.optional(), totalMs: z.number() }),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().optional(),
});
export type TurnView = z.infer<typeof turnViewSchema>;

export const turnAcceptedSchema = z.object({
  turnId: turnIdSchema,
  sessionId: sessionIdSchema,
  status: turnStatusSchema,
  links: z.object({ self: z.string(), wait: z.string(), events: z.string(), audio: z.string() }),
  traceId: z.string().optional().meta({ description: "the turn's trace (W3C trace id), when the API exports traces" }),
});

export const messagesViewSchema = z.object({
  messages: z.array(
    z.object({
      messageId: z.string(),
      role: z.enum(['user', 'assistant']),
      content: z.string(),
      interrupted: z.boolean().optional().meta({ description: 'true: a reply kept only as far as the user heard it' }),
      createdAt: z.iso.datetime(),
    }),
  ),
});

export const statisticsViewSchema = z.record(z.string(), z.unknown());

/** GET /v1/stages: one entry per stage. */
export const stageViewSchema = z.object({
  stage: stageNameSchema,
  live: z.boolean().meta({ description: 'at least one worker of this stage is connected to its queue' }),
  workers: z.number().int(),
  hosts: z.array(z.string()),
  provider: z.string().meta({ description: "the stage's provider (groq, openai, speech-native, kokoro, espeak, fake)" }),
  languages: z.array(z.string()).meta({ description: 'BCP-47 tags a turn may ask for' }),
  defaultLanguage: z.string(),
  voices: z.array(z.string()).optional().meta({ description: 'tts only: voices a turn may ask for' }),
  defaultVoice: z.string().optional(),
  error: z.string().optional().meta({ description: "why the stage's workers could not be read" }),
});
export const stagesViewSchema = z.object({
  stages: z.array(stageViewSchema),
  offerSource: z.enum(['api-config']).meta({ description: "where providers, voices and languages come from: the API's own configuration (the workers do not publish theirs yet)" }),
});
export type StageView = z.infer<typeof stageViewSchema>;

/** GET /readyz: without a metrics:read key only this; with one, also redis, mongo and stages. */
export const readinessViewSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  ready: z.boolean(),
  redis: z.object({ ok: z.boolean(), error: z.string().optional() }).optional(),
  mongo: z.object({ ok: z.boolean(), error: z.string().optional() }).optional(),
  stages: z.record(stageNameSchema, z.object({ healthy: z.boolean(), workers: z.number().int(), hosts: z.array(z.string()), error: z.string().optional() })).optional(),
});

/** POST /login: a key as JSON or as the sign-in form sends it (`next`: where the form goes after). */
export const signInBodySchema = z.object({
  key: z.string().trim().min(1, 'key is empty').max(200),
  next: z.string().max(2000).optional().meta({ description: 'the form only: a path on this server to go to after signing in' }),
});
export const signInViewSchema = z.object({
  keyId: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.iso.datetime(),
  csrfToken: z.string().meta({ description: 'send it as the x-csrf-token header on writes (POST, PUT, PATCH, DELETE) signed in by the cookie; also in the voxq_csrf cookie' }),
});

export const turnLinks = (turnId: string) => ({
  self: `${API_PREFIX}/turns/${turnId}`,
  wait: `${API_PREFIX}/turns/${turnId}/wait`,
  events: `${API_PREFIX}/turns/${turnId}/events`,
  audio: `${API_PREFIX}/turns/${turnId}/audio`,
});

export function sessionView(session: Session): z.infer<typeof sessionViewSchema> {
  return { ...session, createdAt: session.createdAt.toISOString(), lastActivityAt: session.lastActivityAt.toISOString() };
}

export function turnView(turn: Turn): TurnView {
  const stt = turn.stages.stt?.output;
  const llm = turn.stages.llm?.output;
  const tts = turn.stages.tts?.output;
  const input = turn.input.kind === 'audio' ? { kind: 'audio' as const, ...pick(turn.input.audio) } : { kind: 'text' as const };
  return {
    turnId: turn.turnId,
    sessionId: turn.sessionId,
    status: turn.status,
    route: routeOf(turn),
    input,
    stagesDone: (['stt', 'llm', 'tts'] as const).filter((s) => turn.stages[s]),
    ...(stt ? { transcription: stt.text } : {}),
    ...(llm ? { replyText: llm.text } : {}),
    ...(tts && turn.status === 'completed'
      ? { replyAudio: { url: turnLinks(turn.turnId).audio, mimeType: tts.format.mimeType, sizeBytes: tts.audio.sizeBytes, durationMs: tts.audio.durationMs } }
      : {}),
    ...(turn.error ? { error: turn.error } : {}),
    timing: timingOf(turn),
    createdAt: turn.createdAt.toISOString(),
    ...(turn.completedAt ? { completedAt: turn.completedAt.toISOString() } : {}),
  };
}

function pick(audio: { mimeType: string; sizeBytes: number; durationMs: number }) {
  return { mimeType: audio.mimeType, sizeBytes: audio.sizeBytes, durationMs: audio.durationMs };
}

export function messagesView(messages: StoredMessage[]): z.infer<typeof messagesViewSchema> {
  return {
    messages: messages.map((m) => ({
      messageId: m.messageId,
      role: m.role,
      content: m.content,
      ...(m.metadata.interrupted === true ? { interrupted: true } : {}),
      createdAt: m.createdAt.toISOString(),
    })),
  };
}

export function statisticsView(stats: ConversationStatistics): Record<string, unknown> {
  return Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}
