// What a caller hands the SDK (or, later, the HTTP API) to start a turn: exactly one of audio
// or text, plus optional overrides of the voice, language, speed and LLM settings.
import { z } from 'zod';
import { languageSchema, llmOverridesSchema, sessionIdSchema, turnIdSchema } from './turn.js';

export const MAX_TEXT_CHARS = 10_000;

export const turnRequestSchema = z
  .strictObject({
    sessionId: sessionIdSchema,
    audio: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'audio must be bytes (a Buffer or Uint8Array)' }).optional(),
    text: z.string().max(MAX_TEXT_CHARS, `text is longer than ${MAX_TEXT_CHARS} characters`).optional(),
    voice: z.string().min(1).max(100).optional(),
    language: languageSchema.optional(),
    speed: z.number().min(0.5).max(2).optional(),
    llm: llmOverridesSchema.optional(),
    /** An idempotency key: enqueueing the same turnId twice gives the same turn. */
    turnId: turnIdSchema.optional(),
    /** Barge-in: cancel the session's turns in flight (their replies kept as far as heard) before this one runs. */
    bargeIn: z.boolean().optional(),
  })
  .refine((r) => (r.audio === undefined) !== (r.text === undefined), {
    message: 'give exactly one of audio or text',
  });
export type TurnRequest = z.input<typeof turnRequestSchema>;
