// A TtsProvider for tests, the offline demo and benchmarks: a real WAV (a quiet 220 Hz tone)
// whose length follows the text, with scripted latency and failures.
import type { AudioFormat, SynthesizedAudio } from '../ports/audio.js';
import type { SynthesizeOptions, TtsInfo, TtsProvider } from '../ports/tts-provider.js';
import { encodeWavPcm16 } from '../audio/wav.js';
import { FakeScript, type FakeScriptOptions } from './fake-script.js';
import { ProviderError } from './provider-error.js';

export interface FakeTtsOptions extends FakeScriptOptions {
  /** Default 16 000. */
  sampleRateHz?: number;
  /** Audio length per character of text at speed 1.0 (default 10 ms). */
  msPerChar?: number;
}

export interface FakeTtsCall {
  text: string;
  options: SynthesizeOptions;
}

const PROVIDER = 'fake-tts';
const TONE_HZ = 220;
const AMPLITUDE = 0.1 * 32767;

const TONE_CACHE_ENTRIES = 64;

/** An offline TtsProvider that answers a tone of the text's length, with scripted latency and failures. */
export class FakeTtsProvider implements TtsProvider {
  readonly script: FakeScript;
  /** The last call made, recorded before latency and scripted failures apply. */
  lastCall: FakeTtsCall | undefined;
  private readonly sampleRateHz: number;
  private readonly msPerChar: number;
  private readonly tones = new Map<number, Uint8Array>();

  constructor(options: FakeTtsOptions = {}) {
    this.script = new FakeScript(PROVIDER, options);
    this.sampleRateHz = options.sampleRateHz ?? 16_000;
    this.msPerChar = options.msPerChar ?? 10;
  }

  info(): TtsInfo {
    return { provider: 'fake', model: 'fake-tts' };
  }

  isAvailable(): Promise<boolean> {
    return Promise.resolve(true);
  }

  audioFormat(): AudioFormat {
    return { container: 'wav', codec: 'pcm_s16le', sampleRateHz: this.sampleRateHz, channels: 1, mimeType: 'audio/wav' };
  }

  /** The tone's WAV for a length, computed once per length (the benchmarks call this thousands of times). */
  private tone(frames: number): Uint8Array {
    let wav = this.tones.get(frames);
    if (!wav) {
      const samples = new Int16Array(frames);
      const step = (2 * Math.PI * TONE_HZ) / this.sampleRateHz;
      for (let i = 0; i < frames; i += 1) samples[i] = Math.round(AMPLITUDE * Math.sin(step * i));
      wav = encodeWavPcm16(samples, this.sampleRateHz);
      if (this.tones.size >= TONE_CACHE_ENTRIES) this.tones.delete(this.tones.keys().next().value ?? 0);
      this.tones.set(frames, wav);
    }
    return wav;
  }

  async synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    this.lastCall = { text, options };
    await this.script.step(options.signal);
    if (options.signal?.aborted) throw new ProviderError(`${PROVIDER}: call aborted`, { kind: 'aborted', provider: PROVIDER });
    const spoken = text.trim();
    if (spoken === '') throw new ProviderError(`${PROVIDER}: nothing to say: the text is empty`, { kind: 'bad_request', provider: PROVIDER });
    if (!Number.isFinite(options.speed) || options.speed <= 0) {
      throw new ProviderError(`${PROVIDER}: speed must be a positive number`, { kind: 'bad_request', provider: PROVIDER });
    }
    const frames = Math.max(1, Math.round(((spoken.length * this.msPerChar) / options.speed / 1000) * this.sampleRateHz));
    return {
      bytes: this.tone(frames).slice(),
      format: this.audioFormat(),
      durationMs: (frames / this.sampleRateHz) * 1000,
    };
  }
}
