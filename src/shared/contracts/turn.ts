// The turn document: the only place its shape is written. MongoDB stores it as-is (with
// `_id` = turnId); the SDK returns it; the stages read and extend it.
import { z } from 'zod';

export const STAGES = ['stt', 'llm', 'tts'] as const;
export const stageNameSchema = z.enum(STAGES);
export type StageName = z.infer<typeof stageNameSchema>;

/** Turn ids are `turn_` + a UUID: safe in Redis keys, job ids and URLs. */
export const turnIdSchema = z
  .string()
  .regex(/^turn_[0-9a-f-]{36}$/, 'a turn id looks like turn_<uuid>');
export const sessionIdSchema = z
  .string()
  .regex(/^sess_[0-9a-f-]{36}$/, 'a session id looks like sess_<uuid>');

export const languageSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'language must be a BCP-47 tag such as pt-BR');

export const llmOverridesSchema = z.strictObject({
  systemPrompt: z.string().min(1).max(20_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(32_768).optional(),
});
export type LlmOverrides = z.infer<typeof llmOverridesSchema>;

export const audioRefSchema = z.object({
  audioId: z.string().min(1),
  mimeType: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type AudioRef = z.infer<typeof audioRefSchema>;

/**
 * The stages a turn goes through, chosen by the producer when it writes the turn:
 * - `stt-llm-tts`: audio, transcribed by the STT stage, whose text goes to the LLM;
 * - `audio-llm-tts`: audio sent straight to a speech-native LLM; the transcript is recorded on
 *   the side (by the LLM stage when its provider transcribes, else by an STT job run in
 *   parallel that hands nothing on), and the turn completes once reply audio and transcript are in;
 * - `text-llm-tts`: text, straight to the LLM.
 */
export const TURN_ROUTES = ['stt-llm-tts', 'audio-llm-tts', 'text-llm-tts'] as const;
export const turnRouteSchema = z.enum(TURN_ROUTES);
export type TurnRoute = z.infer<typeof turnRouteSchema>;

export const turnInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('audio'), audio: audioRefSchema }),
  z.object({ kind: z.literal('text'), text: z.string().min(1) }),
]);
export type TurnInput = z.infer<typeof turnInputSchema>;

export const segmentSchema = z.object({
  startMs: z.number(),
  endMs: z.number(),
  text: z.string(),
  confidence: z.number().optional(),
});

export const sttOutputSchema = z.object({
  text: z.string(),
  segments: z.array(segmentSchema),
  language: z.string(),
  durationMs: z.number(),
  provider: z.string(),
  model: z.string(),
});
export type SttOutput = z.infer<typeof sttOutputSchema>;

export const llmOutputSchema = z.object({
  text: z.string(),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().optional(),
  outputTokens: z.number().int().optional(),
  contextMessages: z.number().int().nonnegative(),
  /** Sentences the reply was cut into (each one a TTS job); absent on turns from before streaming. */
  sentences: z.number().int().nonnegative().optional(),
});
export type LlmOutput = z.infer<typeof llmOutputSchema>;

export const ttsOutputSchema = z.object({
  audio: audioRefSchema,
  format: z.object({
    container: z.string(),
    codec: z.string(),
    sampleRateHz: z.number(),
    channels: z.number(),
    mimeType: z.string(),
  }),
  provider: z.string(),
  model: z.string(),
});
export type TtsOutput = z.infer<typeof ttsOutputSchema>;

/** Timing of one stage: queue wait (enqueue → start) and work (start → output written). */
export const stageTimingSchema = z.object({
  enqueuedAt: z.date(),
  startedAt: z.date(),
  finishedAt: z.date(),
  queueWaitMs: z.number().nonnegative(),
  workMs: z.number().nonnegative(),
  attempts: z.number().int().positive(),
});
export type StageTiming = z.infer<typeof stageTimingSchema>;

const stageRecord = <T extends z.ZodType>(output: T) => z.object({ output, timing: stageTimingSchema });

export const turnStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'interrupted']);
export type TurnStatus = z.infer<typeof turnStatusSchema>;

/** Statuses after which a turn no longer changes. */
export const FINAL_STATUSES = ['completed', 'failed', 'interrupted'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export function isFinalStatus(status: TurnStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export const turnErrorSchema = z.object({
  stage: stageNameSchema.or(z.literal('enqueue')),
  code: z.string(),
  message: z.string(),
});
export type TurnError = z.infer<typeof turnErrorSchema>;

/** How far a cancelled reply was heard: the assistant message keeps only this much. */
export const interruptionSchema = z.object({
  /** The reply as far as it was heard ('' when nothing was). */
  heardText: z.string(),
  /** Reply audio the client said it played; absent: the sentences a consumer read count as heard. */
  playedMs: z.number().nonnegative().optional(),
  /** Whole or partial sentences heard. */
  sentencesHeard: z.number().int().nonnegative(),
});
export type Interruption = z.infer<typeof interruptionSchema>;

/** When each milestone of a turn happened, in ms after it was enqueued (absent: not reached). */
export const turnTimelineSchema = z.object({
  transcriptMs: z.number().nonnegative().optional(),
  firstTokenMs: z.number().nonnegative().optional(),
  firstSentenceMs: z.number().nonnegative().optional(),
  firstAudioMs: z.number().nonnegative().optional(),
  lastAudioMs: z.number().nonnegative().optional(),
});
export type TurnTimeline = z.infer<typeof turnTimelineSchema>;

export const turnSchema = z.object({
  turnId: turnIdSchema,
  sessionId: sessionIdSchema,
  userId: z.string(),
  status: turnStatusSchema,
  input: turnInputSchema,
  /** Absent on turns stored before routes existed: read it with routeOf(). */
  route: turnRouteSchema.optional(),
  voice: z.string().min(1),
  language: languageSchema,
  speed: z.number().min(0.5).max(2),
  llm: llmOverridesSchema,
  stages: z.object({
    stt: stageRecord(sttOutputSchema).optional(),
    llm: stageRecord(llmOutputSchema).optional(),
    tts: stageRecord(ttsOutputSchema).optional(),
  }),
  error: turnErrorSchema.optional(),
  interruption: interruptionSchema.optional(),
  timeline: turnTimelineSchema.optional(),
  /** The request's fingerprint: a caller's retry with the same turnId must match it (src/producers/sdk/turn-intake.ts). */
  requestHash: z.string().optional(),
  createdAt: z.date(),
  completedAt: z.date().optional(),
});
export type Turn = z.infer<typeof turnSchema>;

/** The route a turn took; turns stored before routes existed took the one their input implies. */
export function routeOf(turn: Pick<Turn, 'route' | 'input'>): TurnRoute {
  return turn.route ?? (turn.input.kind === 'audio' ? 'stt-llm-tts' : 'text-llm-tts');
}
export type StageOutputs = {
  stt: SttOutput;
  llm: LlmOutput;
  tts: TtsOutput;
};
