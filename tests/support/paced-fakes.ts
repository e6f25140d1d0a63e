// Fakes with the timing of real streaming providers, for the streaming tests and the stream
// benchmark: an STT that answers after a fixed delay, an LLM whose first token comes after a
// delay and the rest at a steady rate (spaces at the start of tokens, as real tokenizers emit
// them), and a TTS that takes a fixed time per sentence of its input. Each call is reported
// (start, end, aborted) so a test can tell what ran after a cancel.
import { setTimeout as delay } from 'node:timers/promises';
import type { AudioInput, SynthesizedAudio } from '../../src/shared/ports/audio.js';
import type { GenerateOptions } from '../../src/shared/ports/llm-provider.js';
import type { TranscribeOptions, Transcription } from '../../src/shared/ports/stt-provider.js';
import type { SynthesizeOptions } from '../../src/shared/ports/tts-provider.js';
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { ProviderError } from '../../src/shared/providers/provider-error.js';
import { splitSentences } from '../../src/shared/pt-br/sentence-segmenter.js';

export interface ProviderCall {
  provider: 'stt' | 'llm' | 'tts';
  event: 'start' | 'end' | 'aborted';
  at: number;
  /** The LLM's prompt, the TTS's text. */
  text?: string;
}

export type CallReporter = (call: ProviderCall) => void;

/** Every call reported, with waits on what they show (no fixed sleeps: each report re-checks). */
export class CallLog {
  readonly calls: ProviderCall[] = [];
  private readonly waiters = new Set<() => void>();
  readonly report: CallReporter = (call) => {
    this.calls.push(call);
    for (const wake of [...this.waiters]) wake();
  };

  /** Resolves once `holds(calls)` is true (checked now and at every report). */
  until(holds: (calls: readonly ProviderCall[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!holds(this.calls)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Every call that started has ended or was aborted. */
  settled(): Promise<void> {
    return this.until((calls) => calls.filter((c) => c.event === 'start').length === calls.filter((c) => c.event !== 'start').length);
  }
}

export interface PacedTimings {
  sttMs: number;
  firstTokenMs: number;
  tokensPerS: number;
  /** Per sentence of the TTS input (a whole reply of 5 sentences takes 5×). */
  ttsMsPerSentence: number;
  /** Per-sentence TTS time by sentence text (overrides ttsMsPerSentence): out-of-order finishing. */
  ttsMsFor?: (text: string) => number | undefined;
}

export const STREAM_BENCH_TIMINGS: PacedTimings = { sttMs: 100, firstTokenMs: 150, tokensPerS: 40, ttsMsPerSentence: 120 };

async function pause(ms: number, signal: AbortSignal | undefined, provider: string): Promise<void> {
  if (ms <= 0) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throw new ProviderError(`${provider}: call aborted`, { kind: 'aborted', provider });
  }
}

/** Reports a call's start and its end (or abort) around `run`. */
async function reported<T>(report: CallReporter, provider: ProviderCall['provider'], text: string | undefined, run: () => Promise<T>): Promise<T> {
  report({ provider, event: 'start', at: Date.now(), ...(text !== undefined ? { text } : {}) });
  try {
    const result = await run();
    report({ provider, event: 'end', at: Date.now(), ...(text !== undefined ? { text } : {}) });
    return result;
  } catch (error) {
    report({ provider, event: 'aborted', at: Date.now(), ...(text !== undefined ? { text } : {}) });
    throw error;
  }
}

export class PacedStt extends FakeSttProvider {
  constructor(
    private readonly timings: PacedTimings,
    private readonly report: CallReporter,
    options: ConstructorParameters<typeof FakeSttProvider>[0] = {},
  ) {
    super(options);
  }

  override transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    return reported(this.report, 'stt', undefined, async () => {
      await pause(this.timings.sttMs, options.signal, 'paced-stt');
      return super.transcribe(audio, options);
    });
  }
}

/** Splits a reply into tokens as tokenizers do: the space goes with the next word, numbers split at their separators. */
export function tokenize(text: string): string[] {
  return text.match(/\s*[\p{L}\p{M}]+|\s*\d+|\s*[^\s\p{L}\p{M}\d]/gu) ?? [];
}

export class PacedLlm extends FakeLlmProvider {
  constructor(
    private readonly timings: PacedTimings,
    private readonly report: CallReporter,
    options: ConstructorParameters<typeof FakeLlmProvider>[0] = {},
  ) {
    super(options);
  }

  override async *stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const { report, timings } = this;
    report({ provider: 'llm', event: 'start', at: Date.now(), text: prompt });
    try {
      let whole = '';
      for await (const token of super.stream(prompt, options)) whole += token;
      // Each token at its own absolute time from the call's start, so timer lateness does not add up over the reply.
      const started = performance.now();
      const tokens = tokenize(whole);
      for (let i = 0; i < tokens.length; i += 1) {
        const dueMs = timings.firstTokenMs + (i * 1000) / timings.tokensPerS;
        await pause(dueMs - (performance.now() - started), options.signal, 'paced-llm');
        yield tokens[i] ?? '';
      }
      report({ provider: 'llm', event: 'end', at: Date.now(), text: prompt });
    } catch (error) {
      report({ provider: 'llm', event: 'aborted', at: Date.now(), text: prompt });
      throw error;
    }
  }
}

export class PacedTts extends FakeTtsProvider {
  constructor(
    private readonly timings: PacedTimings,
    private readonly report: CallReporter,
    options: ConstructorParameters<typeof FakeTtsProvider>[0] = {},
  ) {
    super(options);
  }

  override synthesize(text: string, options: SynthesizeOptions): Promise<SynthesizedAudio> {
    return reported(this.report, 'tts', text, async () => {
      const ms = this.timings.ttsMsFor?.(text) ?? this.timings.ttsMsPerSentence * Math.max(1, splitSentences(text).length);
      await pause(ms, options.signal, 'paced-tts');
      return super.synthesize(text, options);
    });
  }
}
