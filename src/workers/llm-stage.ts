// LLM: the user's words + the session's last messages → the assistant's reply text.
import { InputError } from '../shared/errors.js';
import type { Turn } from '../shared/contracts/turn.js';
import type { TokenUsage } from '../shared/ports/llm-provider.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import type { Stage } from './run-stage.js';
import { providerFor } from './stage-deps.js';

/** What the user said: the transcription of their audio, or the text they sent. */
export function userText(turn: Turn): string {
  if (turn.input.kind === 'text') return turn.input.text;
  const stt = turn.stages.stt;
  if (!stt) throw new InputError('stt_missing', `turn ${turn.turnId} reached the LLM stage without a transcription`);
  return stt.output.text;
}

export const llmStage: Stage<'llm'> = {
  name: 'llm',

  async run(turn, { deps, signal }) {
    const llm = providerFor(deps, 'llm');
    const prompt = userText(turn);
    const { settings } = deps;
    const history = await deps.sessions.context(turn.sessionId, { maxMessages: settings.contextMessages });
    const info = llm.info();
    const options = {
      systemPrompt: turn.llm.systemPrompt ?? settings.systemPrompt,
      temperature: turn.llm.temperature ?? settings.temperature,
      maxTokens: turn.llm.maxTokens ?? settings.maxTokens,
      history,
      signal,
      onUsage: (reported: TokenUsage) => (usage = reported),
    };
    let usage: TokenUsage | undefined;
    const text = await withSpan(
      'llm.chat',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': info.provider,
        'gen_ai.request.model': info.model,
        'gen_ai.request.temperature': options.temperature,
        'gen_ai.request.max_tokens': options.maxTokens,
      },
      async (span) => {
        const started = performance.now();
        let answer = '';
        for await (const token of llm.stream(prompt, options)) {
          if (answer === '') span.setAttribute('voxq.llm.first_token_ms', performance.now() - started);
          answer += token;
        }
        if (usage) span.setAttributes({ 'gen_ai.usage.input_tokens': usage.inputTokens, 'gen_ai.usage.output_tokens': usage.outputTokens });
        return answer.trim();
      },
    );
    if (text === '') throw new InputError('llm_empty_reply', `${info.provider} returned an empty reply`);
    return {
      text,
      provider: info.provider,
      model: info.model,
      contextMessages: history.length,
      ...(usage ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } : {}),
    };
  },

  async handOff(turn, { deps }) {
    await deps.queues.add('tts', { turnId: turn.turnId, sessionId: turn.sessionId });
  },
};
