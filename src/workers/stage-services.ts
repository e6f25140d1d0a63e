// What each stage does for a service call (seed: call_service): its provider's work alone, on
// the call's request, with no turn around it: no session context, no event log, no hand-off, no
// record. The same provider spans as a turn's stages, under the call's `process <stage>` span.
import type { Context } from '@opentelemetry/api';
import type { ServiceCallRequests, ServiceCallStoredOutputs } from '../shared/contracts/service-calls.js';
import type { StageName } from '../shared/contracts/turn.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import { providerFor, type StageDeps } from './stage-deps.js';

export interface ServiceRun {
  deps: StageDeps;
  /** The call's `process <stage>` span context. */
  trace: Context;
  /** Aborted on the stage timeout and when the worker shuts down. */
  signal: AbortSignal;
}

export interface ServiceAnswer<S extends StageName> {
  output: ServiceCallStoredOutputs[S];
  /** tts: the audio made. */
  audio?: Uint8Array;
}

type ServiceWork = { [S in StageName]: (request: ServiceCallRequests[S], audio: Buffer | undefined, run: ServiceRun) => Promise<ServiceAnswer<S>> };

export const STAGE_SERVICES: ServiceWork = {
  async stt(request, audio, { deps, trace, signal }) {
    const stt = providerFor(deps, 'stt');
    if (!audio) throw new Error('the stt call has no audio');
    const info = stt.info();
    const transcription = await withSpan(
      trace,
      'stt.transcribe',
      { 'gen_ai.operation.name': 'transcription', 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.audio.size_bytes': audio.byteLength },
      () => stt.transcribe({ bytes: audio, mimeType: request.mimeType }, { language: request.language, signal }),
    );
    const { text, language, durationMs, segments } = transcription;
    return { output: { text: text.trim(), language, durationMs, segments, provider: info.provider, model: info.model } };
  },

  async llm(request, _audio, { deps, trace, signal }) {
    const llm = providerFor(deps, 'llm');
    const { settings } = deps;
    const info = llm.info();
    const options = {
      systemPrompt: request.systemPrompt ?? settings.systemPrompt,
      temperature: request.temperature ?? settings.temperature,
      maxTokens: request.maxTokens ?? settings.maxTokens,
      history: request.history,
      signal,
    };
    const generation = await withSpan(
      trace,
      'llm.chat',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': info.provider,
        'gen_ai.request.model': info.model,
        'gen_ai.request.temperature': options.temperature,
        'gen_ai.request.max_tokens': options.maxTokens,
      },
      async (span) => {
        const answer = await llm.generate(request.prompt, options);
        if (answer.usage) span.setAttributes({ 'gen_ai.usage.input_tokens': answer.usage.inputTokens, 'gen_ai.usage.output_tokens': answer.usage.outputTokens });
        return answer;
      },
    );
    return {
      output: {
        text: generation.text.trim(),
        provider: info.provider,
        model: generation.model || info.model,
        ...(generation.usage ? { inputTokens: generation.usage.inputTokens, outputTokens: generation.usage.outputTokens } : {}),
        ...(generation.finishReason ? { finishReason: generation.finishReason } : {}),
      },
    };
  },

  async tts(request, _audio, { deps, trace, signal }) {
    const tts = providerFor(deps, 'tts');
    const info = tts.info();
    const audio = await withSpan(
      trace,
      'tts.synthesize',
      { 'gen_ai.system': info.provider, 'gen_ai.request.model': info.model, 'voxq.tts.voice': request.voice, 'voxq.text.chars': request.text.length },
      () => tts.synthesize(request.text, { voice: request.voice, language: request.language, speed: request.speed, signal }),
    );
    return {
      output: { format: audio.format, durationMs: audio.durationMs, sizeBytes: audio.bytes.byteLength, provider: info.provider, model: info.model },
      audio: audio.bytes,
    };
  },
};
