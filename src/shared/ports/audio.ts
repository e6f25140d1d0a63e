// Audio as it moves between ports: bytes plus what is known of their format.
import { z } from 'zod';

export interface AudioInput {
  bytes: Uint8Array;
  /** e.g. audio/wav; providers that need a file name derive one from it. */
  mimeType: string;
  fileName?: string;
}

export interface AudioFormat {
  /** wav, ogg, mp3 … */
  container: string;
  /** pcm_s16le, opus, mp3 … */
  codec: string;
  sampleRateHz: number;
  channels: number;
  mimeType: string;
}

export interface SynthesizedAudio {
  bytes: Uint8Array;
  format: AudioFormat;
  durationMs: number;
}

export const audioFormatSchema = z.object({
  container: z.string().min(1),
  codec: z.string().min(1),
  sampleRateHz: z.number().int().positive(),
  channels: z.number().int().positive(),
  mimeType: z.string().min(1),
}) satisfies z.ZodType<AudioFormat>;
