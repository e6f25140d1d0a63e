// espeak-ng as a TtsProvider: robotic but offline, every language, no model download.
// Text, first read the way it is spoken (spoken-text.ts), goes in on stdin (never argv, never a shell); a WAV
// comes out on stdout.
import type { AudioFormat, SynthesizedAudio } from '../ports/audio.js';
import type { SynthesizeOptions, TtsInfo, TtsProvider } from '../ports/tts-provider.js';
import { fixWavHeader, readWavInfo } from '../audio/wav.js';
import { ProcessError, runProcess, type ProcessResult } from '../run-process.js';
import { toEspeakVoice } from './language.js';
import { ProviderError, type ProviderErrorKind } from './provider-error.js';
import { spokenText } from './spoken-text.js';

export interface EspeakNgTtsOptions {
  /** espeak-ng binary (default `espeak-ng`). */
  binary?: string;
  /** Per synthesis (default 30 000 ms). */
  timeoutMs?: number;
}

const PROVIDER = 'espeak-ng';
/** espeak-ng's default rate; `speed` 1.0 maps to it. */
const BASE_WPM = 175;
const MIN_SPEED = 0.5;
const MAX_SPEED = 2;
/** What espeak-ng 1.51 writes with --stdout for every voice: 22 050 Hz mono 16-bit PCM. */
const FORMAT: AudioFormat = { container: 'wav', codec: 'pcm_s16le', sampleRateHz: 22050, channels: 1, mimeType: 'audio/wav' };

/**
 * espeak-ng voice for a voxq voice + BCP-47 language. Kokoro names (`pf_dora`, `pm_alex`) carry
 * gender in their second letter: female → `+f3`, male → `+m3`. Anything else speaks the language's default voice.
 */
export function espeakVoiceFor(voice: string, language: string): string {
  const base = toEspeakVoice(language);
  const kokoro = /^[a-z]([fm])_/i.exec(voice.trim());
  if (!kokoro?.[1]) return base;
  return `${base}+${kokoro[1].toLowerCase() === 'f' ? 'f3' : 'm3'}`;
}

/** espeak-ng as a TtsProvider: offline, every language, no model: `new EspeakNgTtsProvider({ binary?, timeoutMs? })`. */
export class EspeakNgTtsProvider implements TtsProvider {
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor({ binary = 'espeak-ng', timeoutMs = 30_000 }: EspeakNgTtsOptions = {}) {
    this.binary = binary;
    this.timeoutMs = timeoutMs;
  }

  info(): TtsInfo {
    return { provider: PROVIDER, model: 'espeak-ng' };
  }

  audioFormat(): AudioFormat {
    return { ...FORMAT };
  }

  async isAvailable(): Promise<boolean> {
    try {
      const { code } = await this.run(['--version'], undefined, undefined);
      return code === 0;
    } catch {
      return false;
    }
  }

  async synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    if (options.signal?.aborted) throw this.error('aborted', 'synthesis aborted');
    if (text.trim() === '') throw this.error('bad_request', 'nothing to say: the text is empty');
    if (!Number.isFinite(options.speed) || options.speed <= 0) {
      throw this.error('bad_request', `speed must be a positive number (got ${options.speed})`);
    }
    let voice: string;
    try {
      voice = espeakVoiceFor(options.voice, options.language);
    } catch (cause) {
      throw this.error('bad_request', `unsupported language "${options.language}"`, cause);
    }
    const speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, options.speed));
    const wpm = Math.round(BASE_WPM * speed);

    const spoken = spokenText(text, options.language);
    const { code, stdout, stderr } = await this.run(['-v', voice, '-s', String(wpm), '--stdout'], spoken, options.signal);
    if (code !== 0) {
      const kind: ProviderErrorKind = /voice does not exist/i.test(stderr) ? 'bad_request' : 'server';
      throw this.error(kind, `espeak-ng exited with code ${String(code)}: ${stderr.trim().slice(0, 200)}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = fixWavHeader(stdout);
    } catch (cause) {
      throw this.error('server', 'espeak-ng wrote no valid WAV', cause);
    }
    const wav = readWavInfo(bytes);
    if (!wav || wav.dataBytes === 0) throw this.error('server', 'espeak-ng produced no audio');
    return {
      bytes,
      format: { ...FORMAT, sampleRateHz: wav.sampleRateHz, channels: wav.channels },
      durationMs: Math.round(wav.durationMs),
    };
  }

  /** Runs espeak-ng; resolves once the process has exited (no child outlives a call). */
  private async run(args: string[], stdin: string | undefined, signal: AbortSignal | undefined): Promise<ProcessResult> {
    try {
      return await runProcess(this.binary, args, { timeoutMs: this.timeoutMs, ...(stdin !== undefined ? { stdin } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      if (!(error instanceof ProcessError)) throw error;
      if (error.reason === 'spawn') throw this.error('connection', `espeak-ng is not available (${this.binary})`, error);
      if (error.reason === 'aborted') throw this.error('aborted', 'synthesis aborted', error);
      throw this.error('timeout', `no audio within ${this.timeoutMs} ms`, error);
    }
  }

  private error(kind: ProviderErrorKind, message: string, cause?: unknown): ProviderError {
    return new ProviderError(`espeak-ng: ${message}`, { kind, provider: PROVIDER, cause });
  }
}
