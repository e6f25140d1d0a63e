// TTS: one sentence of the reply (one job per sentence, several workers at once) → audio,
// delivered to the turn's event log in sentence order whatever order the jobs finish in. The
// job that delivers the last sentence completes the turn (src/shared/live/turn-ender.ts: joined
// reply audio, messages, record). A sentence of a cancelled turn is synthesized no further, and
// audio finished after the cancel is dropped by the fenced delivery.
import { trace as otelTrace } from '@opentelemetry/api';
import { InputError } from '../shared/errors.js';
import { splitSentences } from '../shared/pt-br/sentence-segmenter.js';
import type { Turn } from '../shared/contracts/turn.js';
import { spanEvent, withSpan } from '../shared/telemetry/span-helpers.js';
import type { Stage, StageRun } from './run-stage.js';
import { providerFor } from './stage-deps.js';

export { replyAudioId } from '../shared/live/turn-ender.js';

export function sentenceAudioId(turnId: string, index: number): string {
  return `${turnId}.reply.${index}`;
}

/** The sentence's text: from the live state, else (live state lost) cut again from the recorded reply. */
async function sentenceText(turn: Turn, index: number, { deps, ref }: StageRun): Promise<string> {
  const text = await deps.live.sentenceText(ref, index);
  if (text !== null) return text;
  const reply = turn.stages.llm?.output.text;
  const again = reply === undefined ? undefined : deps.settings.streaming ? splitSentences(reply)[index] : index === 0 ? reply : undefined;
  if (!again) throw new InputError('sentence_missing', `turn ${turn.turnId} reached the TTS stage without sentence ${index} of its reply`);
  return again;
}

export const ttsStage: Stage<'tts'> = {
  name: 'tts',

  async run(turn, run) {
    const { deps, signal, trace, ref, job } = run;
    const tts = providerFor(deps, 'tts');
    const index = job.data.sentence ?? 0;
    const text = await sentenceText(turn, index, run);
    const info = tts.info();
    const audio = await withSpan(
      trace,
      'tts.synthesize',
      {
        'gen_ai.system': info.provider,
        'gen_ai.request.model': info.model,
        'voxq.tts.voice': turn.voice,
        'voxq.text.chars': text.length,
        'voxq.sentence.index': index,
      },
      () => tts.synthesize(text, { voice: turn.voice, language: turn.language, speed: turn.speed, signal }),
    );
    const audioId = sentenceAudioId(turn.turnId, index);
    const inline = audio.bytes.byteLength <= deps.settings.inlineAudioMaxBytes;
    // A chunk too large for its event is read from the audio store, so it must be there first.
    if (!inline) await deps.audio.put(audio.bytes, { mimeType: audio.format.mimeType, audioId, turnId: turn.turnId });
    const delivery = await deps.live.deliver(
      ref,
      {
        type: 'sentence',
        at: Date.now(),
        index,
        text,
        audio: {
          ...(inline ? { base64: Buffer.from(audio.bytes.buffer, audio.bytes.byteOffset, audio.bytes.byteLength).toString('base64') } : {}),
          audioId,
          mimeType: audio.format.mimeType,
          format: audio.format,
          durationMs: audio.durationMs,
          sizeBytes: audio.bytes.byteLength,
        },
      },
      { ...info, attempts: job.attemptsMade + 1 },
    );
    if (delivery.ended) return undefined; // cancelled meanwhile: the audio is dropped
    spanEvent(trace, 'voxq.live.sentence_delivered', { 'voxq.sentence.index': index });
    // The figure people feel: enqueue → first reply audio, on the span of the job that delivered it.
    if (index === 0) otelTrace.getSpan(trace)?.setAttribute('voxq.turn.time_to_first_audio_ms', Date.now() - turn.createdAt.getTime());
    deps.metrics.timing('voxq.tts.sentence_duration', audio.durationMs, { provider: info.provider });
    // The last sentence in: the joined reply, the messages and the turn's end are recorded now.
    if (delivery.complete && (await deps.ender.complete(ref))) spanEvent(trace, 'voxq.store.turn_completed');
    return undefined;
  },

  async handOff(turn, { deps, ref }) {
    // A re-delivered job of a turn whose reply audio is recorded: finishing again changes nothing.
    if (turn.stages.tts) await deps.ender.complete(ref);
  },
};
