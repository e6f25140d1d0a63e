// voxq's public API, exported deliberately (no `export *`): the SDK and the processes, the ports
// with their type guards, every production implementation of every port under its class name
// and the factories that build them from config, the fakes, the errors. The README's "The
// package's exports" lists the same names (tests/package/public-surface.test.ts keeps them equal).

// The SDK and the processes.
export { connect, type ConnectOptions } from './producers/sdk/connect.js';
export { VoxqClient, type TurnHandle, type ConversationRequest, type ConversationResult, type EnqueueOptions, type CancelOptions } from './producers/sdk/voxq-client.js';
export type { TurnEvent, SentenceEvent, FollowOptions } from './producers/sdk/turn-events.js';
export { TurnFailedError, TurnInterruptedError, type TurnResult, type TurnTiming, type StageTimingSummary } from './producers/sdk/turn-result.js';
export { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './workers/worker-process.js';
export { startApiProcess, type ApiProcess, type ApiProcessOptions } from './producers/http/api-process.js';
export { buildApiServer, type ApiServerDeps } from './producers/http/api-server.js';
export { startTranscribeFolder, type TranscribeFolderRun } from './producers/batch/transcribe-folder.js';
export type { BatchSummary, BatchProgress, FileOutcome, TranscribeFolderOptions } from './producers/batch/batch-runner.js';
export { BullmqServiceClient, ServiceCallError, type BullmqServiceClientOptions } from './shared/bullmq-service-client.js';
export type { ServiceCallInputs, ServiceCallOutputs } from './shared/contracts/service-calls.js';
export { startTracing, type StartTracingOptions, type LibraryTracing } from './shared/telemetry/library-tracing.js';
export type { TracingHandle } from './shared/telemetry/tracing.js';

// Configuration and errors.
export { loadConfig, ConfigError, type Config } from './shared/config.js';
export { VoxqError, InputError, NotFoundError, TimeoutError, ConflictError } from './shared/errors.js';
export { ProviderError, type ProviderErrorKind } from './shared/providers/provider-error.js';

// Turns and text.
export type { Turn, StageName, TurnStatus, TurnRoute, TurnTimeline, Interruption } from './shared/contracts/turn.js';
export type { TurnLogEvent } from './shared/contracts/turn-event.js';
export type { TurnRequest } from './shared/contracts/turn-request.js';
export { SentenceSegmenter, splitSentences } from './shared/pt-br/sentence-segmenter.js';

// Ports and their type guards.
export { isLlmProvider, type LlmProvider, type LlmInfo, type ChatMessage, type GenerateOptions, type Generation, type TokenUsage } from './shared/ports/llm-provider.js';
export { isSttProvider, type SttProvider, type SttInfo, type TranscribeOptions, type Transcription, type TranscriptSegment } from './shared/ports/stt-provider.js';
export { isTtsProvider, type TtsProvider, type TtsInfo, type SynthesizeOptions, type LoadOptions } from './shared/ports/tts-provider.js';
export type { AudioInput, AudioFormat, SynthesizedAudio } from './shared/ports/audio.js';
export { isConversationStore, type ConversationStore, type NewMessage, type StoredMessage, type MessageRole, type ConversationStatistics } from './shared/ports/conversation-store.js';
export { isSessionManager, type SessionManager, type Session, type Interaction } from './shared/ports/session-manager.js';
export { isTurnStore, type TurnStore } from './shared/ports/turn-store.js';
export { isAudioStore, type AudioStore, type StoredAudioInfo } from './shared/ports/audio-store.js';
export { isBatchRecordStore, type BatchRecordStore } from './shared/ports/batch-record-store.js';
export { isMetrics, type Metrics, type Tags } from './shared/ports/metrics.js';
export { isServiceClient, type ServiceClient, type ServiceHealth, type ServiceCallOptions } from './shared/ports/service-client.js';
export { API_SCOPES, isApiKeyStore, type ApiKeyStore, type ApiKeyRecord, type ApiScope, type CreatedApiKey } from './shared/ports/api-key-store.js';
export {
  isGpuManager,
  type GpuManager,
  type GpuCard,
  type GpuInventory,
  type GpuLease,
  type GpuLeaseInfo,
  type GpuMemoryUsage,
  type AllocateResult,
  type BackendRecommendation,
} from './shared/ports/gpu-manager.js';

// Production providers, and the factories that build them from config (VOXQ_STT, VOXQ_LLM, VOXQ_TTS …).
export { GroqLlmProvider, type GroqLlmOptions } from './shared/providers/groq-llm.js';
export { OpenAiLlmProvider, type OpenAiLlmOptions } from './shared/providers/openai-llm.js';
export { SpeechNativeLlmProvider, type SpeechNativeLlmOptions } from './shared/providers/speech-native-llm.js';
export { GroqSttProvider, type GroqSttOptions } from './shared/providers/groq-stt.js';
export { OpenAiSttProvider, type OpenAiSttOptions } from './shared/providers/openai-stt.js';
export { KokoroTtsProvider, type KokoroTtsOptions } from './shared/providers/kokoro/kokoro-tts.js';
export { EspeakNgTtsProvider, type EspeakNgTtsOptions } from './shared/providers/espeak-tts.js';
export { OpenAiTtsProvider, type OpenAiTtsOptions } from './shared/providers/openai-tts.js';
export { createProviders, createSttProvider, createLlmProvider, createTtsProvider, type Providers } from './shared/providers/create-providers.js';

// Production stores and managers, and their factories.
export { openMongoStores, createMemoryStores, type MongoStores } from './shared/store/mongo-stores.js';
export type { StoreSet } from './shared/store/store-set.js';
export { MongoConversationStore } from './shared/store/mongo-conversation-store.js';
export { MongoSessionManager } from './shared/store/mongo-session-manager.js';
export { MongoTurnStore } from './shared/store/mongo-turn-store.js';
export { MongoAudioStore, type MongoAudioStoreOptions } from './shared/store/mongo-audio-store.js';
export { MongoBatchRecordStore } from './shared/store/mongo-batch-record-store.js';
export { MongoApiKeyStore } from './shared/store/mongo-api-key-store.js';
export { startBundledFerretDb, type BundledFerretDb, type BundledFerretDbOptions } from './shared/store/bundled-ferretdb.js';
export { RedisGpuManager } from './shared/gpu/redis-gpu-manager.js';
export { openGpuManager, type OpenGpuManagerOptions } from './shared/gpu/open-gpu-manager.js';
export { PrometheusMetrics } from './shared/telemetry/prometheus-metrics.js';
export { OtelMetrics } from './shared/telemetry/otel-metrics.js';

// Fakes and in-memory parts: the mocks of the document's DI setup, for tests and offline runs.
export { FakeLlmProvider, type FakeLlmOptions } from './shared/providers/fake-llm.js';
export { FakeSttProvider, type FakeSttOptions } from './shared/providers/fake-stt.js';
export { FakeTtsProvider, type FakeTtsOptions } from './shared/providers/fake-tts.js';
export { MemoryConversationStore } from './shared/store/memory-conversation-store.js';
export { MemorySessionManager } from './shared/store/memory-session-manager.js';
export { MemoryApiKeyStore } from './shared/store/memory-api-key-store.js';
