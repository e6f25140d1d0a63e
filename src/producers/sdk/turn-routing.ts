// Which stages a new turn goes through: decided by the producer from its own configuration
// (VOXQ_LLM, VOXQ_SPEECH_LLM_TRANSCRIBES) and written on the turn document, so that every worker
// follows the route the turn was given, whatever their own configuration.
import type { Config } from '../../shared/config.js';
import type { StageName, TurnInput, TurnRoute } from '../../shared/contracts/turn.js';

export interface AudioRouting {
  /** `audio-llm-tts` when the LLM is speech-native: audio turns skip the STT hop. */
  route: Extract<TurnRoute, 'stt-llm-tts' | 'audio-llm-tts'>;
  /**
   * audio-llm-tts only: the LLM stage transcribes the audio itself, so no STT job is added.
   * Otherwise an STT job runs beside the LLM and records the transcript, handing nothing on.
   */
  llmTranscribes: boolean;
}

export const STT_ROUTING: AudioRouting = { route: 'stt-llm-tts', llmTranscribes: false };

export function audioRoutingFrom(config: Pick<Config, 'VOXQ_LLM' | 'VOXQ_SPEECH_LLM_TRANSCRIBES'>): AudioRouting {
  if (config.VOXQ_LLM !== 'speech-native') return STT_ROUTING;
  return { route: 'audio-llm-tts', llmTranscribes: config.VOXQ_SPEECH_LLM_TRANSCRIBES };
}

export function routeFor(input: TurnInput, routing: AudioRouting): TurnRoute {
  return input.kind === 'audio' ? routing.route : 'text-llm-tts';
}

/** The jobs a new turn starts with. */
export function firstStages(route: TurnRoute, routing: AudioRouting): StageName[] {
  switch (route) {
    case 'stt-llm-tts':
      return ['stt'];
    case 'text-llm-tts':
      return ['llm'];
    case 'audio-llm-tts':
      return routing.llmTranscribes ? ['llm'] : ['llm', 'stt'];
  }
}
