// Example 11 of the interface document: runtime type checking. The seed's isinstance() checks are
// type guards that look at every method of the port and at the shape of what info() (and
// audioFormat(), supportsTranscription()) answers; the same checks refuse a wrong part where it
// is injected, naming the part, the port and what it lacks. Run: npx tsx examples/11-runtime-checks.ts
import {
  ConfigError,
  createMemoryStores,
  EspeakNgTtsProvider,
  FakeSttProvider,
  FakeTtsProvider,
  GroqLlmProvider,
  GroqSttProvider,
  isLlmProvider,
  isSttProvider,
  isTtsProvider,
  startWorkerProcess,
} from 'voxq';
import { exampleConfig } from './support/offline.js';

function validateProvider(provider: unknown): string {
  if (isLlmProvider(provider)) return 'Valid LLM Provider';
  if (isSttProvider(provider)) return 'Valid STT Provider';
  if (isTtsProvider(provider)) return 'Valid TTS Provider';
  return 'Unknown provider type';
}

// Building a provider makes no request: Groq is only called by generate()/transcribe().
const apiKey = process.env.GROQ_API_KEY ?? 'gsk_only_constructed';
const groq = new GroqLlmProvider({ apiKey });
console.log(`GroqLlmProvider: ${validateProvider(groq)}`);
console.log(`GroqSttProvider: ${validateProvider(new GroqSttProvider({ apiKey }))}`);
console.log(`EspeakNgTtsProvider: ${validateProvider(new EspeakNgTtsProvider())}`);
console.log(`a plain object: ${validateProvider({ generate: () => 'hi' })}`);
// The right names with the wrong shapes: info() answers no model.
const lookalike = {
  info: () => ({ name: 'llama' }),
  isAvailable: () => Promise.resolve(true),
  generate: () => Promise.resolve({ text: '', model: '' }),
  stream: async function* () {},
  supportsTranscription: () => false,
  transcribe: () => Promise.reject(new Error('no')),
};
console.log(`a look-alike whose info() has no model: ${validateProvider(lookalike)}`);

// Where parts are injected, a wrong one is refused at start, before anything is opened.
const noStream = { ...lookalike, info: () => groq.info(), stream: undefined };
try {
  startWorkerProcess({
    config: exampleConfig(),
    stages: ['stt', 'llm', 'tts'],
    concurrency: 1,
    stores: createMemoryStores(),
    providers: { stt: new FakeSttProvider(), llm: noStream as never, tts: new FakeTtsProvider() },
  });
  console.log('unexpected: the worker started');
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.log(`startWorkerProcess refused it (${error.code}): ${error.message}`);
}

// prints: GroqLlmProvider: Valid LLM Provider
// prints: GroqSttProvider: Valid STT Provider
// prints: EspeakNgTtsProvider: Valid TTS Provider
// prints: a plain object: Unknown provider type
// prints: a look-alike whose info\(\) has no model: Unknown provider type
// prints: startWorkerProcess refused it \(invalid_part\): llm: LlmProvider is missing stream\(\)
