// LLM: the user's words (or, on the audio-llm-tts route, their audio) + the session's last
// messages → the assistant's reply, streamed: each token goes to the turn's event log as a text
// delta, and each sentence (src/shared/pt-br/sentence-segmenter.ts) goes to TTS as its own job
// the moment it is complete, so the first audio follows the first sentence. With streaming off
// the whole reply is one sentence. A turn's LLM stage waits for the session's earlier turns
// (session-order.ts).
import { InputError } from '../shared/errors.js';
import { routeOf, type Turn } from '../shared/contracts/turn.js';
import type { ChatMessage, TokenUsage } from '../shared/ports/llm-provider.js';
import { SentenceSegmenter } from '../shared/pt-br/sentence-segmenter.js';
import { withSpan } from '../shared/telemetry/span-helpers.js';
import { TurnEndedError, type Stage, type StageRun } from './run-stage.js';
import { awaitSessionTurn } from './session-order.js';
import { providerFor } from './stage-deps.js';
import { llmInput, transcribeAlongside } from './user-input.js';
import { asyncIterableFrom } from '../shared/injected-parts.js';

/** The session's context: cached in Redis, else read from MongoDB (and cached). */
async function sessionContext(turn: Turn, { deps }: StageRun): Promise<ChatMessage[]> {
  const cached = await deps.context.get(turn.sessionId);
  if (cached) return cached;
  const history = await deps.sessions.context(turn.sessionId, { maxMessages: deps.settings.contextMessages });
  await deps.context.fill(turn.sessionId, history);
  return history;
}

/**
 * Hands the reply's sentences to TTS as they complete. A re-run of the stage (its worker died
 * mid-stream) keeps the sentences already handed on — they may be playing — and goes on after them.
 */
class SentenceHandOff {
  private index = 0;
  readonly texts: string[] = [];

  constructor(
    private readonly turn: Turn,
    private readonly run: StageRun,
    private readonly alreadyHanded: number,
  ) {}

  async hand(sentence: string): Promise<void> {
    const { deps, ref, trace } = this.run;
    const index = this.index;
    this.index += 1;
    const stored = await deps.live.handSentence(ref, index, sentence);
    if (stored === null) throw new TurnEndedError(`turn ${ref.turnId} ended while its reply streamed`);
    this.texts.push(stored);
    if (index < this.alreadyHanded) return;
    if (this.run.signal.aborted) throw new TurnEndedError(`turn ${ref.turnId}: the llm stage was stopped`);
    await deps.queues.add('tts', { turnId: this.turn.turnId, sessionId: this.turn.sessionId, sentence: index }, trace);
  }

  get count(): number {
    return this.index;
  }
}

export const llmStage: Stage<'llm'> = {
  name: 'llm',

  async run(turn, run) {
    await awaitSessionTurn(run);
    const { deps, ref } = run;
    const llm = providerFor(deps, 'llm');
    const [input, history, alreadyHanded] = await Promise.all([llmInput(turn, llm, run), sessionContext(turn, run), deps.live.sentencesHanded(ref)]);
    const { settings } = deps;
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
    await deps.live.append(ref, { type: 'stage', at: Date.now(), stage: 'llm', status: 'running' });
    const sentences = new SentenceHandOff(turn, run, alreadyHanded);
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
        'voxq.llm.streaming': settings.streaming,
      },
      async (span) => {
        const started = performance.now();
        const segmenter = settings.streaming ? new SentenceSegmenter() : undefined;
        let answer = '';
        // Deltas go out in order on one connection without waiting for each; their results are checked at the end.
        const deltas: Promise<string | null>[] = [];
        for await (const token of asyncIterableFrom(llm.stream(input.prompt, options), 'llm', 'LlmProvider')) {
          if (token === '') continue;
          if (answer === '') span.setAttribute('voxq.llm.first_token_ms', performance.now() - started);
          deltas.push(deps.live.append(ref, { type: 'text', at: Date.now(), delta: token }, answer === '' ? 'firstTokenMs' : undefined));
          answer += token;
          for (const sentence of segmenter?.push(token) ?? []) {
            if (sentences.count === 0) span.setAttribute('voxq.llm.first_sentence_ms', performance.now() - started);
            await sentences.hand(sentence);
          }
        }
        for (const sentence of segmenter ? segmenter.end() : [answer.trim()]) if (sentence !== '') await sentences.hand(sentence);
        if ((await Promise.all(deltas)).includes(null)) throw new TurnEndedError(`turn ${ref.turnId} ended while its reply streamed`);
        span.setAttribute('voxq.llm.sentences', sentences.count);
        if (usage) span.setAttributes({ 'gen_ai.usage.input_tokens': usage.inputTokens, 'gen_ai.usage.output_tokens': usage.outputTokens });
        // A re-run continues the reply already handed on: what is spoken is the reply.
        return alreadyHanded > 0 ? sentences.texts.join(' ') : answer.trim();
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
    if (text === '' || sentences.count === 0) throw new InputError('llm_empty_reply', `${info.provider} returned an empty reply`);
    return {
      text,
      provider: info.provider,
      model: info.model,
      contextMessages: history.length,
      sentences: sentences.count,
      ...(usage ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens } : {}),
    };
  },

  async handOff(turn, run) {
    const { deps, trace, ref } = run;
    const llm = turn.stages.llm?.output;
    if (!llm) return;
    // Older turns (no sentence count) were one TTS job for the whole reply.
    const total = llm.sentences ?? 1;
    if (llm.sentences === undefined) {
      await deps.live.handSentence(ref, 0, llm.text);
      await deps.queues.add('tts', { turnId: turn.turnId, sessionId: turn.sessionId, sentence: 0 }, trace);
    }
    const { complete } = await deps.live.setTotal(ref, total);
    // audio-llm-tts with no transcript yet: make sure an STT job is making one (a no-op when the
    // producer already added it; the turn completes only once the transcript is recorded).
    if (routeOf(turn) === 'audio-llm-tts' && !turn.stages.stt && !(await deps.live.load(ref)).turn?.stages.stt) {
      await deps.queues.add('stt', { turnId: turn.turnId, sessionId: turn.sessionId }, trace);
    }
    if (complete) await deps.ender.complete(ref);
  },
};
