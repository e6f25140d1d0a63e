// What the worker and its Kokoro front-end process (espeak-ng G2P, ffmpeg encoding) say to each other.
import type { ProviderErrorKind } from '../provider-error.js';

export type EncodedFormat = 'opus' | 'mp3';

export type ToFrontEnd =
  | { type: 'phonemize'; requestId: number; text: string; espeakVoice: string; espeakBinary?: string }
  | { type: 'encode'; requestId: number; samples: Float32Array; sampleRateHz: number; format: EncodedFormat; ffmpeg?: string }
  /** The caller gave up: kill its espeak-ng or ffmpeg. */
  | { type: 'cancel'; requestId: number };

export type FromFrontEnd =
  | { type: 'phonemes'; requestId: number; phonemes: string }
  | { type: 'encoded'; requestId: number; bytes: Uint8Array }
  | { type: 'failed'; requestId: number; kind: ProviderErrorKind; message: string };
