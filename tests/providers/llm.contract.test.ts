// The LlmProvider contract, run against the fake, Groq (groq-sdk) and an OpenAI-compatible server
// (openai), both on the local stand-in.
import { FakeLlmProvider } from '../../src/shared/providers/fake-llm.js';
import { GroqLlmProvider } from '../../src/shared/providers/groq-llm.js';
import { OpenAiLlmProvider } from '../../src/shared/providers/openai-llm.js';
import { SpeechNativeLlmProvider } from '../../src/shared/providers/speech-native-llm.js';
import { describeLlmContract, type SeenLlmRequest } from '../contracts/llm-provider.contract.js';
import { SPEECH_LLM_MODELS, startGroqStandin, type GroqStandin, type StandinFailure } from '../support/groq-standin.js';

describeLlmContract('fake', () => {
  const provider = new FakeLlmProvider();
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
});

describeLlmContract('fake with latency', () => {
  const provider = new FakeLlmProvider({ latencyMs: 5, replies: ['Primeira resposta roteirizada, com várias palavras.'] });
  return Promise.resolve({
    provider,
    failNext(kind) {
      provider.script.failNext({ kind, ...(kind === 'rate_limited' ? { retryAfterMs: 2000 } : {}) });
    },
    lastRequest: () =>
      provider.lastCall && {
        systemPrompt: provider.lastCall.options.systemPrompt,
        temperature: provider.lastCall.options.temperature,
        maxTokens: provider.lastCall.options.maxTokens,
        messages: [...(provider.lastCall.options.history ?? []), { role: 'user' as const, content: provider.lastCall.prompt }],
      },
    close: () => Promise.resolve(),
  });
});

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

describeLlmContract('groq (stand-in)', async () => {
  const standin = await startGroqStandin();
  const provider = new GroqLlmProvider({ apiKey: standin.apiKey, baseURL: standin.url, model: 'openai/gpt-oss-20b', timeoutMs: 1000 });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    lastRequest: () => lastChat(standin),
    close: () => standin.close(),
  };
});

describeLlmContract('openai (stand-in)', async () => {
  const standin = await startGroqStandin();
  const provider = new OpenAiLlmProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, model: 'gpt-4o-mini', timeoutMs: 1000 });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    lastRequest: () => lastChat(standin),
    close: () => standin.close(),
  };
});

describeLlmContract('fake (speech-native)', () => {
  const provider = new FakeLlmProvider({ acceptsAudio: true, transcript: 'Olá, tudo bem?' });
  return Promise.resolve({
    provider,
    failNext(kind) {
      provider.script.failNext({ kind, ...(kind === 'rate_limited' ? { retryAfterMs: 2000 } : {}) });
    },
    lastRequest: () =>
      provider.lastCall && {
        systemPrompt: provider.lastCall.options.systemPrompt,
        temperature: provider.lastCall.options.temperature,
        maxTokens: provider.lastCall.options.maxTokens,
        messages: [...(provider.lastCall.options.history ?? []), { role: 'user' as const, content: provider.lastCall.prompt }],
      },
    close: () => Promise.resolve(),
  });
});

describeLlmContract('speech-native (stand-in)', async () => {
  const standin = await startGroqStandin();
  const model = SPEECH_LLM_MODELS[0] ?? '';
  const provider = new SpeechNativeLlmProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, model, timeoutMs: 1000 });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    lastRequest: () => lastChat(standin),
    close: () => standin.close(),
  };
});
