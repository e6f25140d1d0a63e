// Example 1 of the interface document: an orchestrator that depends on the LlmProvider port,
// injected through its constructor, so any provider works: Groq, any OpenAI-compatible server, a
// speech-native model, or a fake in tests. Run: npx tsx examples/01-llm-provider.ts
// With GROQ_API_KEY it asks Groq; without it, the fake stands in for Groq's remote service.
import { FakeLlmProvider, GroqLlmProvider, type LlmProvider } from 'voxq';
import { groqOptions } from './support/offline.js';

class MyOrchestrator {
  constructor(private readonly llm: LlmProvider) {}

  async processText(userInput: string): Promise<string> {
    const info = this.llm.info();
    console.log(`Using model: ${info.model} (${info.provider})`);
    const response = await this.llm.generate(userInput, { systemPrompt: 'You are a helpful assistant', temperature: 0.7, maxTokens: 500 });
    return response.text;
  }
}

// Production: Groq.
const groq = groqOptions();
const production = new MyOrchestrator(groq ? new GroqLlmProvider(groq) : new FakeLlmProvider({ replies: ['Olá! Em que posso ajudar?'] }));
console.log(`Reply: ${await production.processText('Olá!')}`);

// Development: a mock.
const mock = new MyOrchestrator(new FakeLlmProvider({ replies: (prompt) => `Mock response to: ${prompt}` }));
console.log(`Mock reply: ${await mock.processText('Olá!')}`);

// prints: Using model: (openai/gpt-oss-20b \(groq\)|fake-llm \(fake\))
// prints: Reply: \S+
// prints: Mock reply: Mock response to: Olá!
