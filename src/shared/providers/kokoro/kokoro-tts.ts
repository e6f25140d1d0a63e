// Kokoro-82M as a TtsProvider. A reply goes: text → read-aloud text (pt-BR normalisation) →
// espeak-ng phonemes mapped to Kokoro's vocabulary (misaki's rules) → ≤ 510-token pieces split at
// sentence ends → token ids → inference on a synthesis thread with the voice's style vector →
// pieces joined without clicks → WAV, Ogg Opus or MP3. The event loop keeps only the light steps:
// espeak-ng and ffmpeg run from the front-end process (a fork of this big process would stall
// it), inference, joining and WAV encoding on the synthesis thread (see kokoro-run.ts).
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { AudioFormat, SynthesizedAudio } from '../../ports/audio.js';
import type { LoadOptions, SynthesizeOptions, TtsInfo, TtsProvider } from '../../ports/tts-provider.js';
import { speechAudioFormat, type SpeechFormat } from '../../audio/encode-speech.js';
import { toEspeakVoice } from '../language.js';
import { ProviderError, type ProviderErrorKind } from '../provider-error.js';
import { spokenText } from '../spoken-text.js';
import { KokoroFrontEnd } from './front-end.js';
import { hasPhonemes, toInputIds, tokenizePhonemes } from './kokoro-vocab.js';
import { KOKORO_SAMPLE_RATE_HZ, missingKokoroFiles, type KokoroDevice, type KokoroModelOptions, type LoadProgress } from './kokoro-model.js';
import { createKokoroSynthesizer, type KokoroSynthesizer } from './kokoro-synthesizer.js';
import { splitPhonemes } from './phoneme-chunks.js';

const PROVIDER = 'kokoro';
const MIN_SPEED = 0.5;
const MAX_SPEED = 2;

export interface KokoroTtsOptions {
  model: Omit<KokoroModelOptions, 'device'>;
  /** auto: cuda when the worker is pinned to a real GPU, else cpu. */
  device: KokoroDevice | 'auto';
  /** Synthesis threads (default 1); 0 runs inference on the calling thread. */
  threads?: number;
  format?: SpeechFormat;
  espeakBinary?: string;
  ffmpeg?: string;
  /** Called with download/load progress (the worker logs it; the CLI draws a bar). */
  onProgress?: (progress: LoadProgress) => void;
}

/** Voice files that ship inside kokoro-js (`voices/<name>.bin`): every Kokoro voice, pf_dora included. */
export function kokoroVoices(): string[] {
  const entry = createRequire(import.meta.url).resolve('kokoro-js');
  return readdirSync(join(dirname(entry), '..', 'voices'))
    .filter((f) => f.endsWith('.bin'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Kokoro (kokoro-js on onnxruntime-node, CPU or CUDA, pt-BR phonemes by espeak-ng) as a TtsProvider; load() loads the model once, close() frees it. */
export class KokoroTtsProvider implements TtsProvider {
  private readonly format: SpeechFormat;
  private readonly voices = new Set(kokoroVoices());
  /** espeak-ng and ffmpeg, run from a small process of their own. */
  private readonly frontEnd: KokoroFrontEnd;
  private synthesizer: KokoroSynthesizer | undefined;
  /** The synthesizer being started, so close() can stop it too. */
  private starting: KokoroSynthesizer | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly options: KokoroTtsOptions) {
    this.format = options.format ?? 'wav';
    this.frontEnd = new KokoroFrontEnd({
      ...(options.espeakBinary ? { espeakBinary: options.espeakBinary } : {}),
      ...(options.ffmpeg ? { ffmpeg: options.ffmpeg } : {}),
    });
  }

  info(): TtsInfo {
    const { model } = this.options;
    return { provider: PROVIDER, model: `${model.modelDir ?? model.model} (${model.dtype})` };
  }

  audioFormat(): AudioFormat {
    return speechAudioFormat(this.format, KOKORO_SAMPLE_RATE_HZ);
  }

  /** Loads the model once (downloading it on a first run). A GPU worker calls it after reserving the model's memory. */
  load(options: LoadOptions = {}): Promise<void> {
    if (this.synthesizer && !this.synthesizer.healthy()) {
      // Its threads died and could not be restarted: start over with a fresh load.
      void this.synthesizer.close();
      this.synthesizer = undefined;
      this.loading = undefined;
    }
    this.loading ??= this.loadNow(options);
    return this.loading;
  }

  private async loadNow(options: LoadOptions): Promise<void> {
    const { model } = this.options;
    const device = this.options.device === 'auto' ? (options.onGpu ? 'cuda' : 'cpu') : this.options.device;
    if (model.modelDir) {
      const missing = missingKokoroFiles(resolve(model.modelDir), model.dtype);
      if (missing.length > 0) {
        this.loading = undefined;
        throw this.error('bad_request', `could not load the model ${this.info().model}: the folder lacks ${missing.join(', ')}`);
      }
    }
    // On a GPU every thread would hold its own copy of the model, and one copy is reserved.
    const threads = device === 'cuda' ? Math.min(1, this.options.threads ?? 1) : (this.options.threads ?? 1);
    const intraOpThreads = model.intraOpThreads ?? defaultIntraOpThreads(threads);
    // Before the model: forking this process is cheapest while it is small.
    this.frontEnd.start();
    const synthesizer = createKokoroSynthesizer({ ...model, device, intraOpThreads }, threads);
    this.starting = synthesizer;
    try {
      await synthesizer.start(this.options.onProgress);
    } catch (cause) {
      await synthesizer.close();
      this.loading = undefined;
      const hint =
        device === 'cuda'
          ? " (device cuda needs onnxruntime-node's CUDA provider libraries, which its install script fetches unless ONNXRUNTIME_NODE_INSTALL=skip, and CUDA 12 with cuDNN 9 on the host; VOXQ_KOKORO_DEVICE=cpu runs on the CPU)"
          : '';
      throw this.error('connection', `could not load the model ${this.info().model} on ${device}: ${message(cause)}${hint}`, cause);
    } finally {
      this.starting = undefined;
    }
    this.synthesizer = synthesizer;
  }

  async isAvailable(): Promise<boolean> {
    try {
      await this.load();
      // espeak-ng is the front end: a word must come back as phonemes.
      return (await this.frontEnd.phonemize(this.espeakVoice('pt-BR'), 'sim')).length > 0;
    } catch {
      return false;
    }
  }

  async synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    const { signal } = options;
    if (signal?.aborted) throw this.error('aborted', 'synthesis aborted');
    if (text.trim() === '') throw this.error('bad_request', 'nothing to say: the text is empty');
    if (!Number.isFinite(options.speed) || options.speed <= 0) throw this.error('bad_request', `speed must be a positive number (got ${options.speed})`);
    if (!this.voices.has(options.voice)) {
      throw this.error('bad_request', `unknown Kokoro voice "${options.voice}" (e.g. pf_dora, pm_alex, pm_santa; ${this.voices.size} voices ship with kokoro-js)`);
    }
    const speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, options.speed));
    await this.load();
    const synthesizer = this.synthesizer;
    if (!synthesizer) throw this.error('server', 'the model is not loaded');

    const spoken = spokenText(text, options.language);
    const phonemes = await this.frontEnd.phonemize(this.espeakVoice(options.language), spoken, signal);
    const pieces = splitPhonemes(phonemes)
      .map((chunk) => tokenizePhonemes(chunk).ids)
      .filter(hasPhonemes)
      .map(toInputIds);
    if (pieces.length === 0) throw this.error('bad_request', 'nothing to say: the text has no pronounceable words');
    const request = { pieces, voice: options.voice, speed, output: this.format === 'wav' ? ('wav' as const) : ('samples' as const) };
    const speech = await synthesizer.synthesize(request, signal).catch((cause: unknown) => {
      if (signal?.aborted) throw this.error('aborted', 'synthesis aborted', cause);
      // A run that failed or a thread that died: the next attempt gets a fresh thread.
      throw this.error('server', `inference failed: ${message(cause)}`, cause);
    });
    const bytes = speech.output === 'wav' ? speech.bytes : await this.encode(speech.samples, signal);
    return { bytes, format: this.audioFormat(), durationMs: Math.round((speech.sampleCount / KOKORO_SAMPLE_RATE_HZ) * 1000) };
  }

  /** Ogg Opus or MP3: ffmpeg, run from the front-end process. (WAV is written where the synthesis runs.) */
  private async encode(samples: Float32Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const format = this.format;
    if (format === 'wav') throw this.error('server', 'WAV is encoded with the synthesis');
    return this.frontEnd.encode(samples, KOKORO_SAMPLE_RATE_HZ, format, signal).catch((cause: unknown) => {
      throw signal?.aborted ? this.error('aborted', 'synthesis aborted') : this.error('server', `encoding ${format} failed: ${message(cause)}`, cause);
    });
  }

  async close(): Promise<void> {
    const synthesizers = [this.synthesizer, this.starting];
    this.synthesizer = undefined;
    this.starting = undefined;
    this.loading = undefined;
    await Promise.all([...synthesizers.map((s) => s?.close() ?? Promise.resolve()), this.frontEnd.close()]);
  }

  private espeakVoice(language: string): string {
    try {
      return toEspeakVoice(language);
    } catch (cause) {
      throw this.error('bad_request', `unsupported language "${language}"`, cause);
    }
  }

  private error(kind: ProviderErrorKind, text: string, cause?: unknown): ProviderError {
    return new ProviderError(`kokoro: ${text}`, { kind, provider: PROVIDER, cause });
  }
}

/**
 * onnxruntime's default spreads one run over every core, the event loop's included: then the loop
 * waits for the scheduler even with inference on its own thread. Synthesis threads share the
 * other cores; inline (threads 0) has nothing to protect, so it keeps the default.
 */
export function defaultIntraOpThreads(threads: number, cores: number = availableParallelism()): number | undefined {
  if (threads === 0) return undefined;
  return Math.max(1, Math.floor((cores - 1) / threads));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
