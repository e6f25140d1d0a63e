// An SttProvider for tests, the offline demo and benchmarks: scripted transcripts with segment
// times spread over the audio's real length, with scripted latency and failures.
import { readWavInfo } from '../audio/wav.js';
import type { AudioInput } from '../ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription, TranscriptSegment } from '../ports/stt-provider.js';
import { FakeScript, type FakeScriptOptions } from './fake-script.js';
import { toIso6391 } from './language.js';
import { ProviderError } from './provider-error.js';

export type FakeTranscripts = readonly string[] | ((audio: AudioInput, options: TranscribeOptions) => string);

export interface FakeSttOptions extends FakeScriptOptions {
  /** A list used in order (then the default transcript), or a function of the call. */
  transcripts?: FakeTranscripts;
  /** Default `fake-stt`. */
  model?: string;
}

export interface FakeSttCall {
  audio: AudioInput;
  options: TranscribeOptions;
}

const PROVIDER = 'fake-stt';
export const DEFAULT_FAKE_TRANSCRIPT = 'olá, tudo bem?';
/** Audio that is not WAV is taken as 16 kHz mono 16-bit PCM: 32 bytes a millisecond. */
const BYTES_PER_MS = 32;
const CONFIDENCE = 0.9;

/** An offline SttProvider with scripted transcripts, latency and failures for tests and demos. */
export class FakeSttProvider implements SttProvider {
  readonly script: FakeScript;
  /** The last call that reached the fake, whether or not it then failed. */
  lastCall: FakeSttCall | undefined;
  /** What isAvailable() answers. */
  available = true;
  private readonly transcripts: FakeTranscripts | undefined;
  private readonly model: string;
  private nextTranscript = 0;

  constructor(options: FakeSttOptions = {}) {
    this.script = new FakeScript(PROVIDER, options);
    this.transcripts = options.transcripts;
    this.model = options.model ?? 'fake-stt';
  }

  info(): SttInfo {
    return { provider: 'fake', model: this.model };
  }

  isAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  }

  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    this.lastCall = { audio, options };
    await this.script.step(options.signal);
    if (options.signal?.aborted) throw new ProviderError(`${PROVIDER}: call aborted`, { kind: 'aborted', provider: PROVIDER });
    if (audio.bytes.byteLength === 0) throw badRequest('the audio is empty');
    let language: string;
    try {
      language = toIso6391(options.language);
    } catch (error) {
      throw badRequest(`language "${options.language}" has no ISO 639-1 code`, error);
    }
    const text = this.transcript(audio, options).trim();
    const durationMs = audioDurationMs(audio.bytes);
    return { text, segments: spreadSegments(text, durationMs), language, durationMs };
  }

  private transcript(audio: AudioInput, options: TranscribeOptions): string {
    if (typeof this.transcripts === 'function') return this.transcripts(audio, options);
    const scripted = this.transcripts?.[this.nextTranscript];
    if (scripted !== undefined) {
      this.nextTranscript += 1;
      return scripted;
    }
    return DEFAULT_FAKE_TRANSCRIPT;
  }
}

function audioDurationMs(bytes: Uint8Array): number {
  const wav = readWavInfo(bytes);
  const ms = wav ? wav.durationMs : bytes.byteLength / BYTES_PER_MS;
  return Math.max(1, Math.round(ms));
}

/** One segment per sentence, each as long as its share of the characters. */
function spreadSegments(text: string, durationMs: number): TranscriptSegment[] {
  const sentences = text.split(/(?<=[.!?…])\s+/).filter((s) => s !== '');
  if (sentences.length === 0) return [];
  // Each segment needs at least 1 ms to keep startMs < endMs.
  const pieces = sentences.slice(0, durationMs);
  const overflow = sentences.slice(durationMs).join(' ');
  if (overflow !== '') pieces[pieces.length - 1] = `${pieces[pieces.length - 1] ?? ''} ${overflow}`;
  const totalChars = pieces.reduce((n, s) => n + s.length, 0);
  const segments: TranscriptSegment[] = [];
  let startMs = 0;
  let chars = 0;
  pieces.forEach((sentence, i) => {
    chars += sentence.length;
    const last = i === pieces.length - 1;
    const remaining = pieces.length - 1 - i;
    const endMs = last
      ? durationMs
      : Math.min(durationMs - remaining, Math.max(startMs + 1, Math.round((durationMs * chars) / totalChars)));
    segments.push({ startMs, endMs, text: sentence, confidence: CONFIDENCE });
    startMs = endMs;
  });
  return segments;
}

function badRequest(message: string, cause?: unknown): ProviderError {
  return new ProviderError(`${PROVIDER}: ${message}`, { kind: 'bad_request', provider: PROVIDER, cause });
}
