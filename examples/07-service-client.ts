// Example 7 of the interface document: a client that depends on the communication manager
// (ICommunicationManager → voxq's ServiceClient port). In voxq a service is a stage of the
// workers — stt, llm, tts — each with its own input and output schema; calling one runs that
// stage's provider on a worker (retries, timeout, tracing, metrics, GPU lease) outside any turn,
// writing no history. Health first, then the call with a timeout, as the document does; then
// the errors it describes. The workers run in this process for the example (usually `voxq worker`
// processes on any number of hosts): fakes stand in for Groq's remote STT and LLM, espeak-ng
// speaks; calls keep nothing in a database, so the worker gets in-memory stores. Redis at
// REDIS_URL. Run: npx tsx examples/07-service-client.ts
import {
  BullmqServiceClient,
  createMemoryStores,
  EspeakNgTtsProvider,
  FakeLlmProvider,
  FakeSttProvider,
  InputError,
  ServiceCallError,
  startWorkerProcess,
  TimeoutError,
  type ServiceClient,
  type StageName,
} from 'voxq';
import { exampleConfig, sampleAudio } from './support/offline.js';

/** Depends on the ServiceClient port only: any implementation (or a mock) can be injected. */
class VoiceServicesClient {
  constructor(private readonly comm: ServiceClient) {}

  /** The document's call_orchestrator: check the services' health first, then call them with a timeout. */
  async answerSpoken(audio: Uint8Array): Promise<{ transcript: string; reply: string; audio: Uint8Array; format: string; durationMs: number }> {
    for (const service of ['stt', 'llm', 'tts'] as const) {
      const health = await this.comm.health(service);
      if (!health.healthy) throw new Error(`${service} service is not healthy`);
    }
    const heard = await this.comm.call('stt', { audio }, { timeoutMs: 30_000 });
    const answer = await this.comm.call('llm', { prompt: heard.text, systemPrompt: 'Responda em uma frase.', temperature: 0.5, maxTokens: 60 }, { timeoutMs: 30_000 });
    const spoken = await this.comm.call('tts', { text: answer.text, voice: 'pf_dora', language: 'pt-BR' }, { timeoutMs: 30_000 });
    return { transcript: heard.text, reply: answer.text, audio: spoken.audio.bytes, format: spoken.audio.format.mimeType, durationMs: spoken.audio.durationMs };
  }
}

/** What a rejected call says: its error's class and code. */
async function failureOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'it answered';
  } catch (error) {
    if (error instanceof ServiceCallError) return `${error.code}, retryable ${error.retryable}`;
    if (error instanceof InputError || error instanceof TimeoutError) return `${error.code} (${error.message})`;
    return error instanceof Error ? error.message : String(error);
  }
}

const config = exampleConfig();
const llm = new FakeLlmProvider({ replies: () => 'São três horas da tarde.' });
const workers = startWorkerProcess({
  config,
  stages: ['stt', 'llm', 'tts'],
  concurrency: 2,
  stores: createMemoryStores(),
  providers: { stt: new FakeSttProvider({ transcripts: ['Que horas são?'] }), llm, tts: new EspeakNgTtsProvider() },
});
const comm = new BullmqServiceClient({
  redisUrl: config.REDIS_URL,
  prefix: config.VOXQ_PREFIX,
  attempts: config.VOXQ_STAGE_ATTEMPTS,
  voice: config.VOXQ_VOICE,
  language: config.VOXQ_LANGUAGE,
});
// A second client pointed where no worker listens (a prefix of its own): the unhealthy case.
const nowhere = new BullmqServiceClient({ redisUrl: config.REDIS_URL, prefix: `${config.VOXQ_PREFIX}:nobody` });
try {
  const client = new VoiceServicesClient(comm);
  const healths = await Promise.all((['stt', 'llm', 'tts'] as const).map((service) => comm.health(service)));
  console.log(`Health: ${healths.filter((h) => h.healthy).map((h) => h.service).join(', ')} healthy (${healths[0]?.workers} worker each, on ${healths[0]?.hosts.join(', ')})`);

  const { bytes } = await sampleAudio();
  const result = await client.answerSpoken(bytes);
  console.log(`Transcript: ${result.transcript}`);
  console.log(`Reply: ${result.reply}`);
  console.log(`Audio: ${result.audio.byteLength} bytes of ${result.format}, ${result.durationMs} ms`);

  // Errors, as the document describes them. A service voxq does not have, and bad input: refused before anything is enqueued.
  console.log(`Unknown service: ${await failureOf(comm.call('orchestrator' as StageName, { prompt: 'Olá' }))}`);
  console.log(`Bad input: ${await failureOf(comm.call('llm', { prompt: '', temperature: 5 }))}`);
  // The provider's own error comes back with its code and whether retrying could help.
  llm.script.failNext({ kind: 'auth' });
  console.log(`Provider error: ${await failureOf(comm.call('llm', { prompt: 'Que horas são?' }))}`);
  // A retryable one (429 with retry-after) is retried by the worker: the call still answers.
  llm.script.failNext({ kind: 'rate_limited', retryAfterMs: 200 });
  console.log(`After a 429 and a retry: ${(await comm.call('llm', { prompt: 'Que horas são?' }, { timeoutMs: 30_000 })).text}`);
  // Health first, as call_orchestrator does: no workers, no call.
  console.log(`No workers: ${await failureOf(new VoiceServicesClient(nowhere).answerSpoken(bytes))}`);
  // No answer within the timeout: TimeoutError, and the call no worker took is withdrawn.
  console.log(`Timeout: ${await failureOf(nowhere.call('llm', { prompt: 'Alguém aí?' }, { timeoutMs: 500 }))}`);
} finally {
  await nowhere.close();
  await comm.close();
  await workers.close();
}

// prints: Health: stt, llm, tts healthy \(1 worker each, on \S+\)
// prints: Transcript: Que horas são\?
// prints: Reply: São três horas da tarde\.
// prints: Audio: \d{4,} bytes of audio/wav, \d+ ms
// prints: Unknown service: unknown_service \(unknown service "orchestrator": voxq's services are stt, llm, tts\)
// prints: Bad input: invalid_input \(invalid llm call input: prompt: prompt is empty; temperature: .+\)
// prints: Provider error: provider_auth, retryable false
// prints: After a 429 and a retry: São três horas da tarde\.
// prints: No workers: stt service is not healthy
// prints: Timeout: service_timeout \(service llm did not answer within 500ms \(the call was withdrawn\)\)
