// The LlmProvider contract, run against the fake, Groq (groq-sdk), an OpenAI-compatible server
// (openai) and a speech-native model, the last three on the local stand-in.
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { GroqLlmProvider } from '../../src/shared/providers/groq-llm.js';
import { OpenAiLlmProvider } from '../../src/shared/providers/openai-llm.js';
import { SpeechNativeLlmProvider } from '../../src/shared/providers/speech-native-llm.js';
import type { LlmProvider } from '../../src/shared/ports/llm-provider.js';
import { describeLlmContract, type LlmHarness, type SeenLlmRequest } from '../contracts/llm-provider.contract.js';
import { SPEECH_LLM_MODELS, startGroqStandin, type GroqStandin, type StandinFailure } from '../support/groq-standin.js';

/** The contract's harness around a fake: failures scripted, the last call read back as a request. */
function fakeHarness(provider: FakeLlmProvider): Promise<LlmHarness> {
  return Promise.resolve({
    provider,
    failNext(kind) {
      provider.script.failNext({ kind, ...(kind === 'rate_limited' ? { retryAfterMs: 2000 } : {}) });
    },
    lastRequest(): SeenLlmRequest | undefined {
      const call = provider.lastCall;
      if (!call) return undefined;
      return {
        systemPrompt: call.options.systemPrompt,
        temperature: call.options.temperature,
        maxTokens: call.options.maxTokens,
        messages: [...(call.options.history ?? []), { role: 'user', content: call.prompt }],
      };
    },
    close: () => Promise.resolve(),
  });
}

const FAILURES: Record<'rate_limited' | 'server' | 'timeout', StandinFailure> = {
  rate_limited: { status: 429, retryAfterS: 2 },
  server: { status: 503 },
  // Far past the provider's timeout; the stand-in lets go as soon as the client leaves.
  timeout: { hangMs: 60_000 },
};

/** The last chat request the stand-in received, as the contract sees it. */
function lastChat(standin: GroqStandin): SeenLlmRequest | undefined {
  const request = standin.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1);
  if (!request) return undefined;
  const messages = request.messages ?? [];
  const system = messages[0]?.role === 'system' ? messages[0] : undefined;
  return {
    systemPrompt: system?.content,
    temperature: request.temperature,
    maxTokens: request.maxCompletionTokens,
    messages: messages
      .filter((m) => m !== system)
      .map((m) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content })),
  };
}

/** The contract's harness around a provider on its own stand-in: failures injected there, requests read from its log. */
async function standinHarness(make: (standin: GroqStandin) => LlmProvider): Promise<LlmHarness> {
  const standin = await startGroqStandin();
  return {
    provider: make(standin),
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    lastRequest: () => lastChat(standin),
    close: () => standin.close(),
  };
}

describeLlmContract('fake', () => fakeHarness(new FakeLlmProvider()));

describeLlmContract('fake with latency', () =>
  fakeHarness(new FakeLlmProvider({ latencyMs: 5, replies: ['Primeira resposta roteirizada, com várias palavras.'] })),
);

describeLlmContract('groq (stand-in)', () =>
  standinHarness((s) => new GroqLlmProvider({ apiKey: s.apiKey, baseURL: s.url, model: 'openai/gpt-oss-20b', timeoutMs: 1000 })),
);

describeLlmContract('openai (stand-in)', () =>
  standinHarness((s) => new OpenAiLlmProvider({ apiKey: s.apiKey, baseURL: s.openaiUrl, model: 'gpt-4o-mini', timeoutMs: 1000 })),
);

describeLlmContract('fake (speech-native)', () => fakeHarness(new FakeLlmProvider({ acceptsAudio: true, transcript: 'Olá, tudo bem?' })));

describeLlmContract('speech-native (stand-in)', () =>
  standinHarness((s) => new SpeechNativeLlmProvider({ apiKey: s.apiKey, baseURL: s.openaiUrl, model: SPEECH_LLM_MODELS[0] ?? '', timeoutMs: 1000 })),
);
