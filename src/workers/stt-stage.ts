// STT: the user's audio (by reference) → text with timed segments. On the audio-llm-tts route
// the LLM hears the audio itself and this job only records the transcript. A real provider's
// limits come first: a live turn takes a slot of the shared request window (it may use the whole
// limit, batch work only its share), and when the window is full the job waits in its queue for
// the next free slot without spending an attempt.
import { DelayedError } from 'bullmq';
import { routeOf } from '../shared/contracts/turn.js';
import { InputError } from '../shared/errors.js';
import { isProviderError, ProviderError } from '../shared/providers/provider-error.js';
import type { RequestWindow } from '../shared/rate-limit/request-window.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import { stageTiming, type Stage, type StageRun } from './run-stage.js';
import { providerFor } from './stage-deps.js';
import { sttOutputOf, untranscribed } from './user-input.js';

/** The stt stage; `requests` is the provider's shared request window (absent: no request limit, e.g. the fake). */
export function createSttStage(requests?: RequestWindow): Stage<'stt'> {
  return {
    name: 'stt',

    async run(turn, run) {
      const { deps, signal, trace } = run;
      const stt = providerFor(deps, 'stt');
      if (turn.input.kind !== 'audio') throw new InputError('stt_no_audio', `turn ${turn.turnId} has no audio to transcribe`);
      const ref = turn.input.audio;
      // The user's audio sits in the turn's live state while it runs; the audio store has the durable copy.
      const bytes = (await deps.live.inputAudio(run.ref)) ?? (await deps.audio.get(ref.audioId)).bytes;
      const info = stt.info();
      const callId = `${turn.turnId}.stt`;
      const slot = await requests?.acquire('live', callId);
      if (slot && slot.waitMs > 0) {
        deps.log.info({ turnId: turn.turnId, waitMs: slot.waitMs }, 'stt request window full: the turn waits for the next free slot');
        deps.metrics.increment('voxq.stt.rate_limited', 1, { caller: 'live', limit: 'requests' });
        await waitInQueue(run, slot.waitMs);
      }
      const reservation = await deps.audioBudget?.reserve(callId, ref.durationMs, 'live');
      if (reservation && reservation.waitMs > 0) {
        await slot?.release();
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
        // The provider never counted a call that failed before it answered: give the seconds back,
        // and the request slot when the call never reached it. (A 429 stays a retryable provider error.)
        await reservation?.release();
        if (isProviderError(error) && error.kind === 'connection') await slot?.release();
        throw error;
      });
      return sttOutputOf(transcription, info);
    },

    async handOff(turn, { deps, trace, ref }) {
      const stt = turn.stages.stt?.output;
      if (stt) await deps.live.append(ref, { type: 'transcript', at: Date.now(), text: stt.text, language: stt.language });
      // Transcribe-only: the LLM already has the audio; the transcript may be what completes the turn.
      if (routeOf(turn) === 'audio-llm-tts') {
        await deps.ender.complete(ref);
        return;
      }
      await deps.queues.add('llm', { turnId: turn.turnId, sessionId: turn.sessionId }, trace);
    },

    // On audio-llm-tts the transcript is a record, not a step: a turn the LLM answered still ends
    // with its reply, the user's message standing in as "[audio]".
    async recover(turnId, failure, { deps, job, ref }) {
      const turn = (await deps.live.load(ref)).turn ?? (await deps.turns.get(turnId));
      if (!turn || routeOf(turn) !== 'audio-llm-tts') return false;
      const record = await deps.live.recordOutput(ref, 'stt', { output: untranscribed(turn, failure), timing: stageTiming(job, new Date()) });
      if (record) await deps.turns.saveStage(turnId, 'stt', record);
      await deps.ender.complete(ref);
      return true;
    },
  };
}

/** The stt stage without a request window (the fake, or no request limit). */
export const sttStage: Stage<'stt'> = createSttStage();

/** Back to the queue until `waitMs` from now; BullMQ spends no attempt on a DelayedError. */
async function waitInQueue(run: StageRun, waitMs: number): Promise<never> {
  await run.job.moveToDelayed(Date.now() + waitMs, run.token);
  throw new DelayedError();
}
