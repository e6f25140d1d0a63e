// What the user said, whichever route the turn takes: the text they sent, the STT stage's
// transcript, or (audio-llm-tts) the audio itself for a speech-native LLM, with the transcript
// recorded beside it when that LLM can also transcribe.
import { routeOf, type SttOutput, type Turn, type TurnError } from '../shared/contracts/turn.js';
import { InputError } from '../shared/errors.js';
import type { AudioInput } from '../shared/ports/audio.js';
import type { LlmProvider } from '../shared/ports/llm-provider.js';
import type { Transcription } from '../shared/ports/stt-provider.js';
import { spanEvent, withSpan } from '../shared/telemetry/span-helpers.js';
import { stageTiming, type StageRun } from './run-stage.js';

/** What the user said: the transcription of their audio, or the text they sent. */
export function userText(turn: Turn): string {
  if (turn.input.kind === 'text') return turn.input.text;
  const stt = turn.stages.stt;
  if (!stt) throw new InputError('stt_missing', `turn ${turn.turnId} has no transcription yet`);
  return stt.output.text;
}

/** A transcription as the turn records it; no words at all is the user's error, not the provider's. */
export function sttOutputOf(transcription: Transcription, info: { provider: string; model: string }): SttOutput {
  const text = transcription.text.trim();
  if (text === '') throw new InputError('no_speech', 'no speech was recognised in the audio');
  return {
    text,
    segments: transcription.segments,
    language: transcription.language,
    durationMs: transcription.durationMs,
    provider: info.provider,
    model: info.model,
  };
}

/** What stands for the user's words when their audio could not be transcribed (audio-llm-tts only). */
export const UNTRANSCRIBED_TEXT = '[audio]';

/** The stt record of a turn whose transcription failed for good: the marker text, and why in `model`. */
export function untranscribed(turn: Turn, failure: TurnError): SttOutput {
  return {
    text: UNTRANSCRIBED_TEXT,
    segments: [],
    language: turn.language,
    durationMs: turn.input.kind === 'audio' ? turn.input.audio.durationMs : 0,
    provider: 'none',
    model: `untranscribed: ${failure.code}`,
  };
}

export interface LlmInput {
  /** The user's words; empty when the LLM hears `audio` instead. */
  prompt: string;
  audio?: AudioInput;
}

/** What the LLM is given: text on the stt-llm-tts and text-llm-tts routes, the audio (loaded by reference) on audio-llm-tts. */
export async function llmInput(turn: Turn, llm: LlmProvider, run: StageRun): Promise<LlmInput> {
  const { deps } = run;
  if (routeOf(turn) !== 'audio-llm-tts') return { prompt: userText(turn) };
  if (turn.input.kind !== 'audio') throw new InputError('route_no_audio', `turn ${turn.turnId} took the audio-llm-tts route without audio`);
  const info = llm.info();
  if (!info.acceptsAudio) {
    throw new InputError(
      'llm_no_audio',
      `turn ${turn.turnId} took the audio-llm-tts route, but this worker's LLM (${info.provider} ${info.model}) does not take audio: run the llm stage with VOXQ_LLM=speech-native`,
    );
  }
  const ref = turn.input.audio;
  const bytes = (await deps.live.inputAudio(run.ref)) ?? (await deps.audio.get(ref.audioId)).bytes;
  return { prompt: '', audio: { bytes, mimeType: ref.mimeType } };
}

/**
 * audio-llm-tts, when the LLM also transcribes: the transcript, made while the LLM answers and
 * recorded as the turn's stt stage (first write wins, as for any stage). Otherwise nothing: the
 * STT job the producer (or the LLM stage's hand-off) enqueued records it.
 */
export async function transcribeAlongside(turn: Turn, llm: LlmProvider, audio: AudioInput, run: StageRun, signal: AbortSignal): Promise<void> {
  if (turn.stages.stt || !llm.supportsTranscription()) return;
  const { deps, job } = run;
  const info = llm.info();
  const startedAt = new Date();
  const transcription = await withSpan(
    run.trace,
    'stt.transcribe',
    { 'gen_ai.operation.name': 'transcription', 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.audio.size_bytes': audio.bytes.byteLength },
    () => llm.transcribe(audio, { language: turn.language, signal }),
  );
  const output = sttOutputOf(transcription, info);
  const record = await deps.live.recordOutput(run.ref, 'stt', { output, timing: stageTiming(job, startedAt) });
  if (record === null) return; // the turn ended meanwhile
  await deps.live.append(run.ref, { type: 'transcript', at: Date.now(), text: record.output.text, language: record.output.language });
  await deps.turns.saveStage(turn.turnId, 'stt', record);
  spanEvent(run.trace, 'voxq.store.stage_recorded', { 'voxq.stage': 'stt' });
}
