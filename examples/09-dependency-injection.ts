// Example 9 of the interface document: a service whose every dependency is a port, built twice —
// with production parts and with mocks — and run the same way. Production: Groq with
// GROQ_API_KEY (else the fakes stand in for Groq's remote services), espeak-ng, the MongoDB session
// manager (MONGO_URL, else the bundled FerretDB) and Prometheus metrics. Mocks: voxq's fakes, the
// in-memory session manager and a recording Metrics. Run: npx tsx examples/09-dependency-injection.ts
import {
  EspeakNgTtsProvider,
  FakeLlmProvider,
  FakeSttProvider,
  FakeTtsProvider,
  GroqLlmProvider,
  GroqSttProvider,
  isMetrics,
  MemoryConversationStore,
  MemorySessionManager,
  MongoConversationStore,
  MongoSessionManager,
  PrometheusMetrics,
  type AudioInput,
  type LlmProvider,
  type Metrics,
  type SessionManager,
  type SttProvider,
  type SynthesizedAudio,
  type TtsProvider,
} from 'voxq';
import { exampleStores, groqOptions, sampleAudio } from './support/offline.js';

interface ConversationDeps {
  llm: LlmProvider;
  stt: SttProvider;
  tts: TtsProvider;
  sessions: SessionManager;
  metrics: Metrics;
}

class ConversationService {
  constructor(private readonly deps: ConversationDeps) {}

  async processConversationTurn(audioInput: AudioInput, sessionId: string): Promise<{ transcription: string; response: string; audio: SynthesizedAudio }> {
    const { llm, stt, tts, sessions, metrics } = this.deps;
    metrics.increment('conversations');
    const { text } = await stt.transcribe(audioInput, { language: 'pt-BR' });
    const history = await sessions.context(sessionId);
    const response = await llm.generate(text, { systemPrompt: 'You are helpful', temperature: 0.7, history });
    const audio = await tts.synthesize(response.text, { voice: 'pf_dora', language: 'pt-BR', speed: 1 });
    await sessions.addInteraction({ sessionId, userMessage: text, assistantResponse: response.text, audioDurationMs: audio.durationMs, voiceUsed: 'pf_dora' });
    return { transcription: text, response: response.text, audio };
  }
}

/** A mock Metrics: records each call. */
class RecordingMetrics implements Metrics {
  readonly calls: string[] = [];
  increment(name: string): void {
    this.calls.push(`increment ${name}`);
  }
  gauge(name: string): void {
    this.calls.push(`gauge ${name}`);
  }
  timing(name: string): void {
    this.calls.push(`timing ${name}`);
  }
  histogram(name: string): void {
    this.calls.push(`histogram ${name}`);
  }
}

const groq = groqOptions();
const mongo = await exampleStores();
try {
  // Setup with production parts:
  const productionSessions = new MongoSessionManager(mongo.db, new MongoConversationStore(mongo.db));
  const production = new ConversationService({
    llm: groq ? new GroqLlmProvider(groq) : new FakeLlmProvider({ replies: ['São três horas.'] }),
    stt: groq ? new GroqSttProvider(groq) : new FakeSttProvider({ transcripts: ['Que horas são?'] }),
    tts: new EspeakNgTtsProvider(),
    sessions: productionSessions,
    metrics: new PrometheusMetrics('voxq-example'),
  });

  // Setup with mocks for testing:
  const mockMetrics = new RecordingMetrics();
  const mockSessions = new MemorySessionManager(new MemoryConversationStore());
  const mocks = new ConversationService({
    llm: new FakeLlmProvider({ replies: ['Mock reply.'] }),
    stt: new FakeSttProvider({ transcripts: ['Mock transcription'] }),
    tts: new FakeTtsProvider(),
    sessions: mockSessions,
    metrics: mockMetrics,
  });

  const audio = await sampleAudio();
  for (const [name, service, sessions] of [
    ['production', production, productionSessions],
    ['mocks', mocks, mockSessions],
  ] as const) {
    const session = await sessions.createSession('user-42');
    const turn = await service.processConversationTurn(audio, session.sessionId);
    console.log(`${name}: heard "${turn.transcription}", answered "${turn.response}" with ${turn.audio.durationMs} ms of audio`);
  }
  console.log(`mock metrics: ${mockMetrics.calls.join(', ')} (a Metrics: ${isMetrics(mockMetrics)})`);
} finally {
  await mongo.close();
}

// prints: production: heard "\S.*", answered "\S.*" with \d{3,} ms of audio
// prints: mocks: heard "Mock transcription", answered "Mock reply\." with \d+ ms of audio
// prints: mock metrics: increment conversations \(a Metrics: true\)
