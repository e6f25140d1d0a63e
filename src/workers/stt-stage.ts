// STT: the user's audio (by reference) → text with timed segments. On the audio-llm-tts route
// the LLM hears the audio itself and this job only records the transcript.
import { routeOf } from '../shared/contracts/turn.js';
import { InputError } from '../shared/errors.js';
import { ProviderError } from '../shared/providers/provider-error.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import { stageTiming, type Stage } from './run-stage.js';
import { finishTurn } from './finish-turn.js';
import { providerFor } from './stage-deps.js';
import { sttOutputOf, untranscribed } from './user-input.js';

export const sttStage: Stage<'stt'> = {
  name: 'stt',

  async run(turn, { deps, signal, trace }) {
    const stt = providerFor(deps, 'stt');
    if (turn.input.kind !== 'audio') throw new InputError('stt_no_audio', `turn ${turn.turnId} has no audio to transcribe`);
    const ref = turn.input.audio;
    const { bytes } = await deps.audio.get(ref.audioId);
    const info = stt.info();
    const reservation = await deps.audioBudget?.reserve(`${turn.turnId}.stt`, ref.durationMs);
    if (reservation && reservation.waitMs > 0) {
      throw new ProviderError(`${info.provider}: the hourly audio-seconds budget is spent`, {
        kind: 'rate_limited',
        provider: info.provider,
        retryAfterMs: reservation.waitMs,
      });
    }
    const transcription = await withSpan(
      trace,
      'stt.transcribe',
      { 'gen_ai.operation.name': 'transcription', 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.audio.size_bytes': bytes.byteLength },
      () => stt.transcribe({ bytes, mimeType: ref.mimeType }, { language: turn.language, signal }),
    ).catch(async (error: unknown) => {
      // The provider never counted a call that failed before it answered: give the seconds back.
      await reservation?.release();
      throw error;
    });
    return sttOutputOf(transcription, info);
  },

  async handOff(turn, { deps, trace }) {
    // Transcribe-only: the LLM already has the audio; the transcript may be what completes the turn.
    if (routeOf(turn) === 'audio-llm-tts') return finishTurn(turn, deps);
    await deps.queues.add('llm', { turnId: turn.turnId, sessionId: turn.sessionId }, trace);
  },

  // On audio-llm-tts the transcript is a record, not a step: a turn the LLM answered still ends
  // with its reply, the user's message standing in as "[audio]".
  async recover(turnId, failure, { deps, job }) {
    const turn = await deps.turns.get(turnId);
    if (!turn || routeOf(turn) !== 'audio-llm-tts') return false;
    const recorded = await deps.turns.recordStage(turnId, 'stt', untranscribed(turn, failure), stageTiming(job, new Date()));
    await finishTurn(recorded, deps);
    return true;
  },
};
