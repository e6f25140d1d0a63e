// What each stage serves, as this API's configuration says: provider, languages, and the TTS
// voices. Workers publish their liveness (BullMQ's worker list) but not yet their providers or
// voices, so GET /v1/stages reports these beside the live workers, with `offerSource: api-config`.
import type { Config } from '../../shared/config.js';
import type { StageName } from '../../shared/contracts/turn.js';
import { defaultTtsName } from '../../shared/providers/create-providers.js';
import { kokoroVoices } from '../../shared/providers/kokoro/kokoro-tts.js';
import { parseVoiceMap } from '../../shared/providers/openai-tts.js';

export interface StageOffer {
  provider: string;
  languages: string[];
  defaultLanguage: string;
  voices?: string[];
  defaultVoice?: string;
}

export type StageOffers = Record<StageName, StageOffer>;

export function stageOffersFromConfig(config: Config): StageOffers {
  const language = { languages: [config.VOXQ_LANGUAGE], defaultLanguage: config.VOXQ_LANGUAGE };
  const tts = config.VOXQ_TTS ?? defaultTtsName(config);
  return {
    stt: { provider: config.VOXQ_STT, ...language },
    llm: { provider: config.VOXQ_LLM, ...language },
    tts: { provider: tts, ...language, voices: ttsVoices(tts, config), defaultVoice: config.VOXQ_VOICE },
  };
}

/**
 * Kokoro: the voices that ship in kokoro-js. espeak-ng takes the same names (their second letter
 * picks the language voice's female or male variant). An OpenAI-compatible server: the mapped
 * voices. Always the default voice, first.
 */
function ttsVoices(provider: string, config: Config): string[] {
  let voices: string[] = [];
  if (provider === 'kokoro' || provider === 'espeak') {
    try {
      voices = kokoroVoices();
    } catch {
      voices = []; // kokoro-js not installed: only the default voice is known
    }
  } else if (provider === 'openai') {
    voices = Object.keys(parseVoiceMap(config.VOXQ_OPENAI_TTS_VOICE_MAP));
  }
  return [config.VOXQ_VOICE, ...voices.filter((v) => v !== config.VOXQ_VOICE)];
}
