// Config → the three providers a worker uses. A provider that needs a key it does not have
// stops the worker with a message naming the variable: never a silent fallback to fakes.
import { ConfigError, type Config } from '../config.js';
import type { LlmProvider } from '../ports/llm-provider.js';
import type { SttProvider } from '../ports/stt-provider.js';
import type { TtsProvider } from '../ports/tts-provider.js';
import { EspeakTtsProvider } from './espeak-tts.js';
import { FakeLlmProvider } from './fake-llm.js';
import { FakeSttProvider } from './fake-stt.js';
import { FakeTtsProvider } from './fake-tts.js';
import { GroqLlmProvider } from './groq-llm.js';
import { GroqSttProvider } from './groq-stt.js';

export interface Providers {
  stt: SttProvider;
  llm: LlmProvider;
  tts: TtsProvider;
}

function groqKey(config: Config, variable: string): string {
  if (!config.GROQ_API_KEY) {
    throw new ConfigError(`${variable}=groq needs GROQ_API_KEY (or choose another provider, e.g. ${variable}=fake for an offline run)`);
  }
  return config.GROQ_API_KEY;
}

function notYet(variable: string, name: string): never {
  throw new ConfigError(`${variable}=${name} is not available in this version of voxq`);
}

export function createSttProvider(config: Config): SttProvider {
  switch (config.VOXQ_STT) {
    case 'groq':
      return new GroqSttProvider({
        apiKey: groqKey(config, 'VOXQ_STT'),
        model: config.VOXQ_STT_MODEL,
        ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
      });
    case 'fake':
      return new FakeSttProvider();
    default:
      return notYet('VOXQ_STT', config.VOXQ_STT);
  }
}

export function createLlmProvider(config: Config): LlmProvider {
  switch (config.VOXQ_LLM) {
    case 'groq':
      return new GroqLlmProvider({
        apiKey: groqKey(config, 'VOXQ_LLM'),
        model: config.VOXQ_LLM_MODEL,
        reasoningEffort: config.VOXQ_LLM_REASONING_EFFORT,
        ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
      });
    case 'fake':
      return new FakeLlmProvider();
    default:
      return notYet('VOXQ_LLM', config.VOXQ_LLM);
  }
}

export function createTtsProvider(config: Config): TtsProvider {
  switch (config.VOXQ_TTS) {
    case 'espeak':
      return new EspeakTtsProvider();
    case 'fake':
      return new FakeTtsProvider();
    default:
      return notYet('VOXQ_TTS', config.VOXQ_TTS);
  }
}

/** Only the stages a worker runs need their provider (and its key). */
export function createProviders(config: Config, stages: readonly string[]): Partial<Providers> {
  return {
    ...(stages.includes('stt') ? { stt: createSttProvider(config) } : {}),
    ...(stages.includes('llm') ? { llm: createLlmProvider(config) } : {}),
    ...(stages.includes('tts') ? { tts: createTtsProvider(config) } : {}),
  };
}
