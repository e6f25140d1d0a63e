// STT: the user's audio (by reference) → text with timed segments.
import { InputError } from '../shared/errors.js';
import { ProviderError } from '../shared/providers/provider-error.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import type { Stage } from './run-stage.js';
import { providerFor } from './stage-deps.js';

export const sttStage: Stage<'stt'> = {
  name: 'stt',

  async run(turn, { deps, signal }) {
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
      'stt.transcribe',
      { 'gen_ai.operation.name': 'transcription', 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.audio.size_bytes': bytes.byteLength },
      () => stt.transcribe({ bytes, mimeType: ref.mimeType }, { language: turn.language, signal }),
    ).catch(async (error: unknown) => {
      // The provider never counted a call that failed before it answered: give the seconds back.
      await reservation?.release();
      throw error;
    });
    if (transcription.text.trim() === '') {
      throw new InputError('no_speech', 'no speech was recognised in the audio');
    }
    return {
      text: transcription.text.trim(),
      segments: transcription.segments,
      language: transcription.language,
      durationMs: transcription.durationMs,
      provider: info.provider,
      model: info.model,
    };
  },

  async handOff(turn, { deps }) {
    await deps.queues.add('llm', { turnId: turn.turnId, sessionId: turn.sessionId });
  },
};
