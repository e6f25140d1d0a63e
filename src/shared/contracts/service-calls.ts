// Service calls (seed: ICommunicationManager.call_service): one stage's work on its own, outside
// any turn. Each stage is a service with its own input and output schema. What a caller passes
// (`…CallInputSchema`, audio as bytes) is checked before anything is enqueued; what travels
// (`…CallRequestSchema`, defaults filled, bytes apart) and what comes back (`…CallOutputSchema`)
// sit in the call's Redis hash (src/shared/service-calls/call-store.ts), so the job itself
// carries only the call's id: no audio, prompt or reply text in a job payload or its events.
import { z } from 'zod';
import { languageSchema, llmOverridesSchema, type StageName } from './turn.js';
import { turnTextSchema, voiceSchema } from './turn-request.js';

/** The job name of a service call in a stage queue (turn jobs are `turn`, batch jobs `batch-…`). */
export const SERVICE_CALL_JOB_NAME = 'call';

export const callIdSchema = z.string().regex(/^call_[0-9a-f-]{36}$/, 'a call id looks like call_<uuid>');

/** A call job's data: its id (input and output are in the call's hash). */
export const serviceCallJobSchema = z.strictObject({ callId: callIdSchema });
export type ServiceCallJobData = z.infer<typeof serviceCallJobSchema>;

const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'audio must be bytes (a Buffer or Uint8Array)' });

const chatMessageSchema = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: turnTextSchema.refine((t) => t.trim() !== '', 'content is empty'),
});

// ---- stt: audio → transcript

export const sttCallInputSchema = z.strictObject({
  audio: bytesSchema,
  /** Default: the language the client was made with (VOXQ_LANGUAGE). */
  language: languageSchema.optional(),
});

export const sttCallRequestSchema = z.strictObject({
  language: languageSchema,
  /** What ffprobe found the audio to be (the bytes are the hash's `audio` field). */
  mimeType: z.string().min(1),
  sizeBytes: z.number().int().positive(),
  durationMs: z.number().nonnegative(),
});

export const sttCallOutputSchema = z.strictObject({
  text: z.string(),
  language: z.string(),
  durationMs: z.number().nonnegative(),
  segments: z.array(z.strictObject({ startMs: z.number(), endMs: z.number(), text: z.string(), confidence: z.number().optional() })),
  provider: z.string(),
  model: z.string(),
});

// ---- llm: a prompt (or a conversation) → a reply

export const llmCallInputSchema = z
  .strictObject({
    /** One user message; or `messages`, a conversation ending with the user's. */
    prompt: turnTextSchema.refine((t) => t.trim() !== '', 'prompt is empty').optional(),
    messages: z.array(chatMessageSchema).min(1, 'messages is empty').max(200, 'messages holds more than 200 messages').optional(),
    ...llmOverridesSchema.shape,
  })
  .refine((i) => (i.prompt === undefined) !== (i.messages === undefined), { message: 'give exactly one of prompt or messages' })
  .refine((i) => i.messages === undefined || i.messages.at(-1)?.role === 'user', { message: 'the last of messages must be the user’s', path: ['messages'] });

export const llmCallRequestSchema = z.strictObject({
  /** The last user message; the ones before it are the history. */
  prompt: z.string().min(1),
  history: z.array(chatMessageSchema),
  /** Unset: the worker's VOXQ_SYSTEM_PROMPT, VOXQ_TEMPERATURE, VOXQ_MAX_TOKENS. */
  ...llmOverridesSchema.shape,
});

export const llmCallOutputSchema = z.strictObject({
  text: z.string(),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  finishReason: z.string().optional(),
});

// ---- tts: text → audio

export const ttsCallInputSchema = z.strictObject({
  text: turnTextSchema.refine((t) => t.trim() !== '', 'text is empty'),
  /** Defaults: the client's voice and language (VOXQ_VOICE, VOXQ_LANGUAGE), speed 1. */
  voice: voiceSchema.optional(),
  language: languageSchema.optional(),
  speed: z.number().min(0.5).max(2).optional(),
});

export const ttsCallRequestSchema = z.strictObject({
  text: z.string().min(1),
  voice: voiceSchema,
  language: languageSchema,
  speed: z.number().min(0.5).max(2),
});

const audioFormatSchema = z.strictObject({
  container: z.string(),
  codec: z.string(),
  sampleRateHz: z.number(),
  channels: z.number(),
  mimeType: z.string(),
});

/** As stored: the bytes are the hash's `outputAudio` field. */
export const ttsCallStoredOutputSchema = z.strictObject({
  format: audioFormatSchema,
  durationMs: z.number().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
  provider: z.string(),
  model: z.string(),
});

export const ttsCallOutputSchema = z.strictObject({
  audio: z.strictObject({ bytes: bytesSchema, format: audioFormatSchema, durationMs: z.number().nonnegative() }),
  provider: z.string(),
  model: z.string(),
});

// ---- per service

export const SERVICE_CALL_INPUT_SCHEMAS = { stt: sttCallInputSchema, llm: llmCallInputSchema, tts: ttsCallInputSchema } as const;
export const SERVICE_CALL_REQUEST_SCHEMAS = { stt: sttCallRequestSchema, llm: llmCallRequestSchema, tts: ttsCallRequestSchema } as const;

/** What `call(service, input)` takes. */
export interface ServiceCallInputs {
  stt: z.input<typeof sttCallInputSchema>;
  llm: z.input<typeof llmCallInputSchema>;
  tts: z.input<typeof ttsCallInputSchema>;
}
/** What travels to the worker (the call's hash `input` field). */
export interface ServiceCallRequests {
  stt: z.infer<typeof sttCallRequestSchema>;
  llm: z.infer<typeof llmCallRequestSchema>;
  tts: z.infer<typeof ttsCallRequestSchema>;
}
/** What `call(service, input)` resolves with. */
export interface ServiceCallOutputs {
  stt: z.infer<typeof sttCallOutputSchema>;
  llm: z.infer<typeof llmCallOutputSchema>;
  tts: z.infer<typeof ttsCallOutputSchema>;
}
/** What the worker stores (the call's hash `output` field; tts audio bytes apart). */
export interface ServiceCallStoredOutputs {
  stt: ServiceCallOutputs['stt'];
  llm: ServiceCallOutputs['llm'];
  tts: z.infer<typeof ttsCallStoredOutputSchema>;
}
export const SERVICE_CALL_STORED_OUTPUT_SCHEMAS = { stt: sttCallOutputSchema, llm: llmCallOutputSchema, tts: ttsCallStoredOutputSchema } as const;

/** Why a call failed, as the worker stored it: the provider's code and whether retrying could help. */
export const serviceCallFailureSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  provider: z.string().optional(),
  retryAfterMs: z.number().nonnegative().optional(),
});
export type ServiceCallFailure = z.infer<typeof serviceCallFailureSchema>;

export type ServiceName = StageName;
