// The SttProvider contract, run against the fake, Groq (groq-sdk) and an OpenAI-compatible server
// (openai: verbose_json, and a text-only model), both on the local stand-in.
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { GroqSttProvider } from '../../src/shared/providers/groq-stt.js';
import { OpenAiSttProvider } from '../../src/shared/providers/openai-stt.js';
import { describeSttContract } from '../contracts/stt-provider.contract.js';
import { startGroqStandin, type StandinFailure } from '../support/groq-standin.js';

describeSttContract('fake', () => {
  const provider = new FakeSttProvider();
  return Promise.resolve({
    provider,
    failNext(kind) {
      provider.script.failNext({ kind, ...(kind === 'rate_limited' ? { retryAfterMs: 2000 } : {}) });
    },
    close: () => Promise.resolve(),
  });
});

describeSttContract('fake with latency and scripted transcripts', () => {
  const provider = new FakeSttProvider({
    latencyMs: 5,
    transcripts: (audio) => `Recebi ${audio.bytes.byteLength} bytes. Obrigado! Até logo.`,
  });
  return Promise.resolve({
    provider,
    failNext(kind) {
      provider.script.failNext({ kind, ...(kind === 'rate_limited' ? { retryAfterMs: 2000 } : {}) });
    },
    close: () => Promise.resolve(),
  });
});

const FAILURES: Record<'rate_limited' | 'server' | 'timeout', StandinFailure> = {
  rate_limited: { status: 429, retryAfterS: 2 },
  server: { status: 503 },
  timeout: { hangMs: 60_000 },
};

describeSttContract('groq (stand-in)', async () => {
  const standin = await startGroqStandin();
  const provider = new GroqSttProvider({ apiKey: standin.apiKey, baseURL: standin.url, timeoutMs: 1000 });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    close: () => standin.close(),
  };
});

describeSttContract('openai (stand-in)', async () => {
  const standin = await startGroqStandin();
  const provider = new OpenAiSttProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, model: 'whisper-1', timeoutMs: 1000 });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    close: () => standin.close(),
  };
});

describeSttContract('openai text-only model (stand-in)', async () => {
  const standin = await startGroqStandin();
  const provider = new OpenAiSttProvider({
    apiKey: standin.apiKey,
    baseURL: standin.openaiUrl,
    model: 'gpt-4o-mini-transcribe',
    timeoutMs: 1000,
  });
  return {
    provider,
    failNext(kind) {
      standin.failNext(FAILURES[kind]);
    },
    close: () => standin.close(),
  };
});
