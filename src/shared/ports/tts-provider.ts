// Seed: ITTSProvider.synthesize(text, voice="pf_dora", language="pt-BR", speed), get_audio_format.
import type { AudioFormat, SynthesizedAudio } from './audio.js';
import { z } from 'zod';
import { audioFormatSchema } from './audio.js';
import { conformsTo, type PortSpec } from './port-spec.js';

export interface SynthesizeOptions {
  voice: string;
  /** One BCP-47 tag (pt-BR). */
  language: string;
  /** 1.0 is normal; 0.5–2.0. */
  speed: number;
  signal?: AbortSignal;
}

export interface TtsInfo {
  provider: string;
  model: string;
}

export interface LoadOptions {
  /** The worker is pinned to a real (not simulated) GPU and has reserved the model's memory on it. */
  onGpu?: boolean;
}

export interface TtsProvider {
  info(): TtsInfo;
  isAvailable(): Promise<boolean>;
  synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio>;
  audioFormat(): AudioFormat;
  /** Engines with a local model load it here, once, before the first job (else on first use). */
  load?(options?: LoadOptions): Promise<void>;
  /** Frees what load() took (threads, model memory). */
  close?(): Promise<void>;
}

export const ttsInfoSchema = z.object({ provider: z.string().min(1), model: z.string().min(1) }) satisfies z.ZodType<TtsInfo>;

export const TTS_PROVIDER_PORT: PortSpec = {
  name: 'TtsProvider',
  methods: ['info', 'isAvailable', 'synthesize', 'audioFormat'],
  optionalMethods: ['load', 'close'],
  answers: { info: ttsInfoSchema, audioFormat: audioFormatSchema },
};

/** Every method there (load/close, when present, methods too), info() and audioFormat() of the port's shape. */
export function isTtsProvider(value: unknown): value is TtsProvider {
  return conformsTo(value, TTS_PROVIDER_PORT);
}
