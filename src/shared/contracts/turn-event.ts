// The events of one turn, in the order they happened, as its event log keeps them (a Redis
// stream per turn, src/shared/live/turn-log.ts): what the SDK's `turn.events()`, `result()`,
// the SSE route and the console all read. Audio chunk bytes travel base64-encoded in the log.
import { z } from 'zod';
import { stageNameSchema, turnErrorSchema, turnRouteSchema } from './turn.js';

export const audioFormatSchema = z.object({
  container: z.string(),
  codec: z.string(),
  sampleRateHz: z.number(),
  channels: z.number(),
  mimeType: z.string(),
});

/** One sentence of the reply as synthesized: its audio inline (bounded) and, always, where it is stored. */
export const sentenceAudioSchema = z.object({
  /** Base64 of the audio bytes; absent when the chunk is over the inline bound (read it by `audioId`). */
  base64: z.string().optional(),
  audioId: z.string(),
  mimeType: z.string(),
  format: audioFormatSchema,
  durationMs: z.number().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
});

export const END_STATUSES = ['completed', 'interrupted', 'failed'] as const;

export const turnLogEventSchema = z.discriminatedUnion('type', [
  /** The turn was accepted (written by the producer, so the log exists from the start). */
  z.object({ type: z.literal('accepted'), at: z.number(), route: turnRouteSchema }),
  /** A stage started work on the turn (stt and llm; tts reports per sentence). */
  z.object({ type: z.literal('stage'), at: z.number(), stage: stageNameSchema, status: z.enum(['running', 'completed']) }),
  z.object({ type: z.literal('transcript'), at: z.number(), text: z.string(), language: z.string() }),
  /** A piece of the reply text as the LLM streams it (reasoning text never appears). */
  z.object({ type: z.literal('text'), at: z.number(), delta: z.string() }),
  /** One reply sentence with its audio, in index order whatever order the TTS workers finished in. */
  z.object({ type: z.literal('sentence'), at: z.number(), index: z.number().int().nonnegative(), text: z.string(), audio: sentenceAudioSchema }),
  z.object({
    type: z.literal('end'),
    at: z.number(),
    status: z.enum(END_STATUSES),
    /** interrupted: the reply as far as it was heard. */
    heardText: z.string().optional(),
    playedMs: z.number().nonnegative().optional(),
    error: turnErrorSchema.optional(),
  }),
]);
export type TurnLogEvent = z.infer<typeof turnLogEventSchema>;
export type EndStatus = (typeof END_STATUSES)[number];

/** An event as read from the log: its stream id (for resuming) and the event. */
export interface LoggedEvent {
  id: string;
  event: TurnLogEvent;
}
