// TTS: the reply text → audio in the database; then the turn completes and its two messages
// are saved, once, whatever retries happened (finish-turn.ts).
import { InputError } from '../shared/errors.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import type { Stage } from './run-stage.js';
import { providerFor } from './stage-deps.js';
import { finishTurn } from './finish-turn.js';

export function replyAudioId(turnId: string): string {
  return `${turnId}.reply`;
}

export const ttsStage: Stage<'tts'> = {
  name: 'tts',

  async run(turn, { deps, signal, trace }) {
    const tts = providerFor(deps, 'tts');
    const reply = turn.stages.llm?.output.text;
    if (!reply) throw new InputError('llm_missing', `turn ${turn.turnId} reached the TTS stage without a reply`);
    const info = tts.info();
    const audio = await withSpan(
      trace,
      'tts.synthesize',
      { 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.tts.voice': turn.voice, 'voxq.text.chars': reply.length },
      () => tts.synthesize(reply, { voice: turn.voice, language: turn.language, speed: turn.speed, signal }),
    );
    const stored = await deps.audio.put(audio.bytes, { mimeType: audio.format.mimeType, audioId: replyAudioId(turn.turnId), turnId: turn.turnId });
    return {
      audio: { audioId: stored.audioId, mimeType: stored.mimeType, sizeBytes: stored.sizeBytes, durationMs: audio.durationMs },
      format: audio.format,
      provider: info.provider,
      model: info.model,
    };
  },

  async handOff(turn, { deps }) {
    await finishTurn(turn, deps);
  },
};
