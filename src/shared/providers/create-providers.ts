// Config → the three providers a worker uses. A provider that needs a key it does not have
// stops the worker with a message naming the variable: never a silent fallback to fakes.
import { ConfigError, type Config } from '../config.js';
import type { LlmProvider } from '../ports/llm-provider.js';
import type { SttProvider } from '../ports/stt-provider.js';
import type { TtsProvider } from '../ports/tts-provider.js';
import { EspeakNgTtsProvider } from './espeak-tts.js';
import { FakeLlmProvider } from './fake-llm.js';
import { FakeSttProvider } from './fake-stt.js';
import { FakeTtsProvider } from './fake-tts.js';
import { GroqLlmProvider } from './groq-llm.js';
import { GroqSttProvider } from './groq-stt.js';
import { isOpenAiHosted, type OpenAiClientOptions } from './openai-client.js';
import { OpenAiLlmProvider } from './openai-llm.js';
import { OpenAiSttProvider } from './openai-stt.js';
import { OpenAiTtsProvider, parseVoiceMap } from './openai-tts.js';
import { SpeechNativeLlmProvider } from './speech-native-llm.js';
import { kokoroModelPresent, type KokoroModelOptions, type LoadProgress } from './kokoro/kokoro-model.js';
import { KokoroTtsProvider } from './kokoro/kokoro-tts.js';

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

/**
 * One role's OpenAI-compatible server: its own base URL, else OPENAI_BASE_URL, else OpenAI
 * (which needs a key). `choice` is the setting that picked it, e.g. `VOXQ_LLM=speech-native`.
 */
function openAiServer(config: Config, choice: string, baseUrlVariable: string, roleBaseUrl: string | undefined): OpenAiClientOptions {
  const baseURL = roleBaseUrl ?? config.OPENAI_BASE_URL;
  if (!config.OPENAI_API_KEY && isOpenAiHosted(baseURL)) {
    throw new ConfigError(
      `${choice} needs OPENAI_API_KEY for OpenAI's API (or set ${baseUrlVariable} or OPENAI_BASE_URL to a local OpenAI-compatible server, which needs no key)`,
    );
  }
  return { ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}), ...(baseURL ? { baseURL } : {}) };
}

function notYet(variable: string, name: string): never {
  throw new ConfigError(`${variable}=${name} is not available in this version of voxq`);
}

/** The SttProvider VOXQ_STT selects (groq, openai, fake); a provider without its key is a ConfigError naming the variable. */
export function createSttProvider(config: Config): SttProvider {
  switch (config.VOXQ_STT) {
    case 'groq':
      return new GroqSttProvider({
        apiKey: groqKey(config, 'VOXQ_STT'),
        model: config.VOXQ_STT_MODEL,
        ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
      });
    case 'openai':
      return new OpenAiSttProvider({
        ...openAiServer(config, 'VOXQ_STT=openai', 'VOXQ_OPENAI_STT_BASE_URL', config.VOXQ_OPENAI_STT_BASE_URL),
        model: config.VOXQ_OPENAI_STT_MODEL,
        maxFileBytes: config.VOXQ_STT_MAX_FILE_BYTES,
      });
    case 'fake':
      return new FakeSttProvider();
    default:
      return notYet('VOXQ_STT', config.VOXQ_STT);
  }
}

/** The LlmProvider VOXQ_LLM selects (groq, openai, speech-native, fake); a provider without its key is a ConfigError naming the variable. */
export function createLlmProvider(config: Config): LlmProvider {
  switch (config.VOXQ_LLM) {
    case 'groq':
      return new GroqLlmProvider({
        apiKey: groqKey(config, 'VOXQ_LLM'),
        model: config.VOXQ_LLM_MODEL,
        reasoningEffort: config.VOXQ_LLM_REASONING_EFFORT,
        ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
      });
    case 'openai':
      return new OpenAiLlmProvider({
        ...openAiServer(config, 'VOXQ_LLM=openai', 'VOXQ_OPENAI_LLM_BASE_URL', config.VOXQ_OPENAI_LLM_BASE_URL),
        model: config.VOXQ_OPENAI_LLM_MODEL,
      });
    case 'speech-native':
      return new SpeechNativeLlmProvider({
        ...openAiServer(config, 'VOXQ_LLM=speech-native', 'VOXQ_SPEECH_LLM_BASE_URL', config.VOXQ_SPEECH_LLM_BASE_URL),
        model: config.VOXQ_SPEECH_LLM_MODEL,
        transcribes: config.VOXQ_SPEECH_LLM_TRANSCRIBES,
      });
    case 'fake':
      return new FakeLlmProvider();
    default:
      return notYet('VOXQ_LLM', config.VOXQ_LLM);
  }
}

/**
 * VOXQ_TTS unset: Kokoro when its model needs no download (a complete cached copy) or a local
 * folder is configured (an incomplete one then fails the load, naming the missing files, rather
 * than falling back quietly), else espeak-ng.
 */
export function defaultTtsName(config: Config): 'kokoro' | 'espeak' {
  if (config.VOXQ_KOKORO_MODEL_DIR) return 'kokoro';
  return kokoroModelPresent(kokoroModelOptions(config)) ? 'kokoro' : 'espeak';
}

function kokoroModelOptions(config: Config): Omit<KokoroModelOptions, 'device'> {
  return {
    model: config.VOXQ_KOKORO_MODEL,
    cacheDir: config.VOXQ_KOKORO_CACHE_DIR,
    dtype: config.VOXQ_KOKORO_DTYPE,
    ...(config.VOXQ_KOKORO_MODEL_DIR ? { modelDir: config.VOXQ_KOKORO_MODEL_DIR } : {}),
    ...(config.VOXQ_KOKORO_HUB_URL ? { hubUrl: config.VOXQ_KOKORO_HUB_URL } : {}),
    ...(config.VOXQ_KOKORO_INTRA_OP_THREADS ? { intraOpThreads: config.VOXQ_KOKORO_INTRA_OP_THREADS } : {}),
  };
}

/** The TtsProvider VOXQ_TTS selects (kokoro, espeak, openai, fake; unset: Kokoro when its model is at hand, else espeak-ng). */
export function createTtsProvider(config: Config, onProgress?: (progress: LoadProgress) => void): TtsProvider {
  const name = config.VOXQ_TTS ?? defaultTtsName(config);
  switch (name) {
    case 'kokoro':
      return new KokoroTtsProvider({
        model: kokoroModelOptions(config),
        device: config.VOXQ_KOKORO_DEVICE,
        threads: config.VOXQ_KOKORO_THREADS,
        format: config.VOXQ_KOKORO_FORMAT,
        ...(onProgress ? { onProgress } : {}),
      });
    case 'espeak':
      return new EspeakNgTtsProvider();
    case 'openai':
      return new OpenAiTtsProvider({
        ...openAiServer(config, 'VOXQ_TTS=openai', 'VOXQ_OPENAI_TTS_BASE_URL', config.VOXQ_OPENAI_TTS_BASE_URL),
        model: config.VOXQ_OPENAI_TTS_MODEL,
        format: config.VOXQ_OPENAI_TTS_FORMAT,
        sampleRateHz: config.VOXQ_OPENAI_TTS_SAMPLE_RATE_HZ,
        voiceMap: parseVoiceMap(config.VOXQ_OPENAI_TTS_VOICE_MAP),
      });
    case 'fake':
      return new FakeTtsProvider();
    default:
      return notYet('VOXQ_TTS', name);
  }
}

/** Only the stages a worker runs need their provider (and its key). */
export function createProviders(
  config: Config,
  stages: readonly string[],
  hooks: { onModelProgress?: (progress: LoadProgress) => void } = {},
): Partial<Providers> {
  return {
    ...(stages.includes('stt') ? { stt: createSttProvider(config) } : {}),
    ...(stages.includes('llm') ? { llm: createLlmProvider(config) } : {}),
    ...(stages.includes('tts') ? { tts: createTtsProvider(config, hooks.onModelProgress) } : {}),
  };
}
