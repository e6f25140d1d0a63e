// What a caller hands the SDK (or, later, the HTTP API) to start a turn: exactly one of audio
// or text, plus optional overrides of the voice, language, speed and LLM settings. Every string
// here ends up in MongoDB, a Redis key or a provider's argument: ids keep to their shape
// (turn.ts), a voice to a name's characters, text to its limit and without NUL.
import { z } from 'zod';
import { languageSchema, llmOverridesSchema, sessionIdSchema, turnIdSchema } from './turn.js';

export const MAX_TEXT_CHARS = 10_000;
export const MAX_VOICE_CHARS = 100;

const NUL = '\u0000';

/**
 * A voice name: letters, digits and `_ . + ( ) -` (`pf_dora`, `alloy`, `pt_BR-faber-medium`,
 * Kokoro-FastAPI's blends `af_bella(2)+af_sky(1)`); never `..`, `/`, `$`, `:`, spaces, NUL or
 * look-alike letters from other scripts.
 */
export const voiceSchema = z
  .string()
  .min(1, 'voice is empty')
  .max(MAX_VOICE_CHARS, `voice is longer than ${MAX_VOICE_CHARS} characters`)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.+()-]*$/, 'voice may hold only ASCII letters, digits and _ . + ( ) - (such as pf_dora)')
  .refine((v) => !v.includes('..'), 'voice must not contain ".."');

export const turnTextSchema = z
  .string()
  .max(MAX_TEXT_CHARS, `text is longer than ${MAX_TEXT_CHARS} characters`)
  .refine((t) => !t.includes(NUL), 'text contains a NUL character');

export const turnRequestSchema = z
  .strictObject({
    sessionId: sessionIdSchema,
    audio: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'audio must be bytes (a Buffer or Uint8Array)' }).optional(),
    text: turnTextSchema.optional(),
    voice: voiceSchema.optional(),
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
