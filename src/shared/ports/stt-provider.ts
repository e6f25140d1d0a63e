// Seed: ISTTProvider.transcribe(audio, language="pt").
import type { AudioInput } from './audio.js';
import { z } from 'zod';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface TranscribeOptions {
  /** One BCP-47 tag (pt-BR); each adapter maps it to what its provider accepts. */
  language: string;
  signal?: AbortSignal;
}

export interface TranscriptSegment {
  startMs: number;
  endMs: number;
  text: string;
  /** 0..1 where the provider gives one (Whisper: exp(avg_logprob)). */
  confidence?: number;
}

export interface Transcription {
  text: string;
  segments: TranscriptSegment[];
  /** The language as the provider reported it, as a BCP-47 tag where known. */
  language: string;
  durationMs: number;
}

export interface SttInfo {
  provider: string;
  model: string;
}

export interface SttProvider {
  info(): SttInfo;
  isAvailable(): Promise<boolean>;
  transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription>;
}

export const sttInfoSchema = z.object({ provider: z.string().min(1), model: z.string().min(1) }) satisfies z.ZodType<SttInfo>;

export const STT_PROVIDER_PORT: PortSpec = { name: 'SttProvider', methods: ['info', 'isAvailable', 'transcribe'], answers: { info: sttInfoSchema } };

/** Every method there and info() of the port's shape. */
export function isSttProvider(value: unknown): value is SttProvider {
  return conformsTo(value, STT_PROVIDER_PORT);
}
