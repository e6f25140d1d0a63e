// Example 10 of the interface document: a mock written for a test implements the whole
// LlmProvider port (the guard and the worker's checks refuse a partial one), counts its calls and
// answers predefined responses; then the same test with voxq's own fake. Run: npx tsx examples/10-mocks.ts
import assert from 'node:assert/strict';
import {
  FakeLlmProvider,
  isLlmProvider,
  ProviderError,
  type AudioInput,
  type GenerateOptions,
  type Generation,
  type LlmInfo,
  type LlmProvider,
  type TranscribeOptions,
  type Transcription,
} from 'voxq';

class MockLlmProvider implements LlmProvider {
  callCount = 0;
  constructor(private readonly responses: Record<string, string> = {}) {}

  info(): LlmInfo {
    return { provider: 'mock', model: 'mock-model', supportsStreaming: true, acceptsAudio: false };
  }
  isAvailable(): Promise<boolean> {
    return Promise.resolve(true);
  }
  generate(prompt: string, _options?: GenerateOptions): Promise<Generation> {
    this.callCount += 1;
    return Promise.resolve({ text: this.responses[prompt] ?? `Mock response to: ${prompt}`, model: 'mock-model' });
  }
  async *stream(prompt: string, options?: GenerateOptions): AsyncIterable<string> {
    yield (await this.generate(prompt, options)).text;
  }
  supportsTranscription(): boolean {
    return true;
  }
  transcribe(_audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    if (!this.supportsTranscription()) throw new ProviderError('mock: no transcription', { kind: 'unsupported', provider: 'mock' });
    return Promise.resolve({ text: 'Mock transcription', segments: [], language: options.language, durationMs: 0 });
  }
}

class MyOrchestrator {
  constructor(private readonly llm: LlmProvider) {}
  async processText(userInput: string): Promise<string> {
    return (await this.llm.generate(userInput, { systemPrompt: 'You are a helpful assistant', temperature: 0.7, maxTokens: 500 })).text;
  }
}

// test_orchestrator_with_mock
const mockLlm = new MockLlmProvider({ Hello: 'Hi there! How can I help you?' });
assert.ok(isLlmProvider(mockLlm));
const orchestrator = new MyOrchestrator(mockLlm);
const response = await orchestrator.processText('Hello');
assert.equal(response, 'Hi there! How can I help you?');
assert.equal(mockLlm.callCount, 1);
console.log(`ok: the mock answered "${response}" in ${mockLlm.callCount} call`);

// The same test with voxq's fake: scripted replies, a call log, and failures on demand.
const fake = new FakeLlmProvider({ replies: (prompt) => (prompt === 'Hello' ? 'Hi there! How can I help you?' : `Mock response to: ${prompt}`) });
assert.equal(await new MyOrchestrator(fake).processText('Hello'), 'Hi there! How can I help you?');
assert.equal(fake.script.calls, 1);
const failing = new FakeLlmProvider({ failures: [{ kind: 'rate_limited', retryAfterMs: 1000 }] });
const error = await new MyOrchestrator(failing).processText('Hello').catch((e: unknown) => e);
assert.ok(error instanceof ProviderError && error.retryable && error.retryAfterMs === 1000);
console.log(`ok: the fake answered in ${fake.script.calls} call, and failed with ${error.kind} (retryable, after ${error.retryAfterMs} ms) when told to`);

// A mock without the whole port is no LlmProvider.
const partial = { generate: (prompt: string) => Promise.resolve({ text: `mock ${prompt}`, model: 'mock' }) };
assert.equal(isLlmProvider(partial), false);
console.log('ok: a mock with generate() alone is refused by isLlmProvider');

// prints: ok: the mock answered "Hi there! How can I help you\?" in 1 call
// prints: ok: the fake answered in 1 call, and failed with rate_limited \(retryable, after 1000 ms\) when told to
// prints: ok: a mock with generate\(\) alone is refused by isLlmProvider
