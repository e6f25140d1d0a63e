// LLM: the user's words (or, on the audio-llm-tts route, their audio) + the session's last
// messages → the assistant's reply text.
import { InputError } from '../shared/errors.js';
import { routeOf } from '../shared/contracts/turn.js';
import type { TokenUsage } from '../shared/ports/llm-provider.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import type { Stage } from './run-stage.js';
import { providerFor } from './stage-deps.js';
import { llmInput, transcribeAlongside } from './user-input.js';

export const llmStage: Stage<'llm'> = {
  name: 'llm',

  async run(turn, run) {
    const { deps } = run;
    const llm = providerFor(deps, 'llm');
    const input = await llmInput(turn, llm, run);
    const { settings } = deps;
    const history = await deps.sessions.context(turn.sessionId, { maxMessages: settings.contextMessages });
    const info = llm.info();
    // The reply and a side transcription share one signal: when either fails, the other stops.
    // Without audio there is no sibling call, and no need for a combined signal.
    const sibling = input.audio ? new AbortController() : undefined;
    const signal = sibling ? AbortSignal.any([run.signal, sibling.signal]) : run.signal;
    const options = {
      systemPrompt: turn.llm.systemPrompt ?? settings.systemPrompt,
      temperature: turn.llm.temperature ?? settings.temperature,
      maxTokens: turn.llm.maxTokens ?? settings.maxTokens,
      history,
      signal,
      onUsage: (reported: TokenUsage) => (usage = reported),
      ...(input.audio ? { audio: input.audio } : {}),
    };
    let usage: TokenUsage | undefined;
    const reply = withSpan(
      run.trace,
      'llm.chat',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': info.provider,
        'gen_ai.request.model': info.model,
        'gen_ai.request.temperature': options.temperature,
        'gen_ai.request.max_tokens': options.maxTokens,
        'voxq.llm.audio_input': input.audio !== undefined,
      },
      async (span) => {
        const started = performance.now();
        let answer = '';
        for await (const token of llm.stream(input.prompt, options)) {
          if (answer === '') span.setAttribute('voxq.llm.first_token_ms', performance.now() - started);
          answer += token;
        }
        if (usage) span.setAttributes({ 'gen_ai.usage.input_tokens': usage.inputTokens, 'gen_ai.usage.output_tokens': usage.outputTokens });
        return answer.trim();
      },
    );
    // A side transcription that fails does not cost the reply: the hand-off then enqueues an STT job.
    const transcript = input.audio
      ? transcribeAlongside(turn, llm, input.audio, run, signal).catch((error: unknown) => {
          if (!signal.aborted) deps.log.warn({ turnId: turn.turnId, err: error }, 'side transcription failed; an STT job will transcribe');
        })
      : Promise.resolve();
    const [text] = await Promise.all([reply, transcript]).catch((error: unknown) => {
      sibling?.abort();
      throw error;
    });
    if (text === '') throw new InputError('llm_empty_reply', `${info.provider} returned an empty reply`);
    return {
      text,
      provider: info.provider,
      model: info.model,
      contextMessages: history.length,
      ...(usage ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } : {}),
    };
  },

  async handOff(turn, { deps, trace }) {
    const job = { turnId: turn.turnId, sessionId: turn.sessionId };
    await deps.queues.add('tts', job, trace);
    // audio-llm-tts with no transcript yet: make sure an STT job is making one (a no-op when the
    // producer already added it; the turn completes only once the transcript is recorded).
    if (routeOf(turn) === 'audio-llm-tts' && !turn.stages.stt) await deps.queues.add('stt', job, trace);
  },
};

