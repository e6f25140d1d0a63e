// Example 8 of the interface document: an API that depends on the orchestrator, here voxq's SDK
// client: processConversation() runs a spoken turn through the stt → llm → tts queues, and
// cancelSession() is the barge-in. The workers run in this process for the example (usually
// `voxq worker` processes on any number of hosts): Groq with GROQ_API_KEY, else fakes standing in
// for Groq's remote services; espeak-ng speaks; MongoDB from MONGO_URL, else the bundled FerretDB;
// Redis at REDIS_URL. Run: npx tsx examples/08-orchestrator.ts
import {
  connect,
  EspeakNgTtsProvider,
  FakeLlmProvider,
  FakeSttProvider,
  GroqLlmProvider,
  GroqSttProvider,
  openMongoStores,
  startWorkerProcess,
  type TurnTiming,
  type VoxqClient,
} from 'voxq';
import { exampleConfig, exampleDatabase, forgetExampleKeys, groqOptions, sampleAudio } from './support/offline.js';

class ConversationAPI {
  constructor(private readonly orchestrator: VoxqClient) {}

  async handleVoiceInput(audioData: Uint8Array, sessionId: string, userId: string): Promise<{ transcription: string; response: string; audio: Uint8Array; timing: TurnTiming }> {
    const result = await this.orchestrator.processConversation({ audio: audioData, sessionId, userId, voice: 'pf_dora', language: 'pt-BR' });
    return { transcription: result.transcription, response: result.responseText, audio: result.responseAudio, timing: result.timing };
  }

  /** The user spoke over the reply: true when a turn was cancelled. */
  handleBargeIn(sessionId: string): Promise<boolean> {
    return this.orchestrator.cancelSession(sessionId);
  }
}

const database = await exampleDatabase();
const config = exampleConfig({ MONGO_URL: database.url, VOXQ_MONGO_DB: database.name });
const groq = groqOptions();
const workers = startWorkerProcess({
  config,
  stages: ['stt', 'llm', 'tts'],
  concurrency: 2,
  stores: await openMongoStores(database.url, database.name),
  providers: {
    stt: groq ? new GroqSttProvider(groq) : new FakeSttProvider({ transcripts: ['Que horas são?'] }),
    llm: groq ? new GroqLlmProvider(groq) : new FakeLlmProvider({ replies: ['São três horas da tarde. Posso ajudar em mais alguma coisa?'] }),
    tts: new EspeakNgTtsProvider(),
  },
});
const voxq = await connect({ config });
try {
  const api = new ConversationAPI(voxq);
  const session = await voxq.createSession('user-42', { device: 'kitchen' });
  const { bytes } = await sampleAudio();
  const result = await api.handleVoiceInput(bytes, session.sessionId, 'user-42');
  console.log(`Transcription: ${result.transcription}`);
  console.log(`Response: ${result.response}`);
  console.log(`Audio: ${result.audio.length} bytes of WAV`);
  const { stt, llm, tts, totalMs } = result.timing;
  console.log(`Timing: stt ${stt?.workMs} ms, llm ${llm?.workMs} ms, tts ${tts?.workMs} ms, ${totalMs} ms in all`);

  // Barge-in: the user speaks over the next reply.
  const next = await voxq.enqueueTurn({ sessionId: session.sessionId, text: 'Conte uma história bem longa.' });
  console.log(`Barge-in cancelled a turn: ${await api.handleBargeIn(session.sessionId)}`);
  console.log(`The cancelled turn ends: ${await next.result().then(() => 'completed', (error: unknown) => (error instanceof Error ? error.name : 'unknown'))}`);
  console.log(`Barge-in with nothing in flight: ${await api.handleBargeIn(session.sessionId)}`);
} finally {
  await voxq.close();
  await workers.close();
  await database.close();
  await forgetExampleKeys(config);
}

// prints: Transcription: \S+
// prints: Response: \S+
// prints: Audio: \d{4,} bytes of WAV
// prints: Timing: stt \d+ ms, llm \d+ ms, tts \d+ ms, \d+ ms in all
// prints: Barge-in cancelled a turn: true
// prints: The cancelled turn ends: TurnInterruptedError
// prints: Barge-in with nothing in flight: false
