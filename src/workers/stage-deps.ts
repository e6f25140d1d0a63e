// Everything a stage needs, injected once when the worker starts.
import type { Config } from '../shared/config.js';
import type { PinnedGpu } from '../shared/gpu/pinned-gpu.js';
import type { Logger } from '../shared/logger.js';
import type { AudioStore } from '../shared/ports/audio-store.js';
import type { ConversationStore } from '../shared/ports/conversation-store.js';
import type { Metrics } from '../shared/ports/metrics.js';
import type { SessionManager } from '../shared/ports/session-manager.js';
import type { Providers } from '../shared/providers/create-providers.js';
import type { AudioBudget } from '../shared/rate-limit/audio-budget.js';
import type { TurnStore } from '../shared/ports/turn-store.js';
import type { StageQueues } from '../shared/queues.js';
import type { ActiveTurns } from '../shared/live/cancel-bus.js';
import type { LiveTurns } from '../shared/live/live-turns.js';
import type { SessionContextCache } from '../shared/live/session-context.js';
import type { TurnEnder } from '../shared/live/turn-ender.js';
import type { UnfinishedTurns } from '../shared/live/unfinished-turns.js';

export interface StageSettings {
  contextMessages: number;
  systemPrompt: string;
  temperature: number;
  maxTokens: number;
  stageTimeoutMs: number;
  /** Sentence by sentence (one TTS job each); false: the whole reply in one TTS job. */
  streaming: boolean;
  /** Sentence audio up to this size travels inside its event. */
  inlineAudioMaxBytes: number;
  /** How long an outage of MongoDB or Redis is waited out before the turn fails. */
  outageToleranceMs: number;
}

export interface StageDeps {
  turns: TurnStore;
  audio: AudioStore;
  sessions: SessionManager;
  conversations: ConversationStore;
  /** Only the providers of the stages this process runs. */
  providers: Partial<Providers>;
  metrics: Metrics;
  queues: StageQueues;
  /** Each turn's live state and event log in Redis: what the path to first audio reads and writes. */
  live: LiveTurns;
  /** The session's last messages, cached for the LLM stage. */
  context: SessionContextCache;
  /** Completes and fails turns, once. */
  ender: TurnEnder;
  /** This process's active jobs by turn, aborted when their turn is cancelled. */
  active: ActiveTurns;
  /** Every accepted turn not ended yet: what the reconciler looks at. */
  unfinished: UnfinishedTurns;
  settings: StageSettings;
  log: Logger;
  /** The STT provider's audio-seconds-per-hour budget, shared with batch work (absent for fakes). */
  audioBudget?: AudioBudget | undefined;
  /** Set when the worker is pinned to a GPU: reserves each job's working memory. */
  gpu?: Pick<PinnedGpu, 'reserveForJob'> | undefined;
}

export function stageSettingsFrom(config: Config): StageSettings {
  return {
    contextMessages: config.VOXQ_CONTEXT_MESSAGES,
    systemPrompt: config.VOXQ_SYSTEM_PROMPT,
    temperature: config.VOXQ_TEMPERATURE,
    maxTokens: config.VOXQ_MAX_TOKENS,
    stageTimeoutMs: config.VOXQ_STAGE_TIMEOUT_MS,
    streaming: config.VOXQ_STREAMING,
    inlineAudioMaxBytes: config.VOXQ_EVENT_AUDIO_MAX_BYTES,
    outageToleranceMs: config.VOXQ_OUTAGE_TOLERANCE_MS,
  };
}

/** The provider of a stage this process runs (a worker started without that stage has none). */
export function providerFor<K extends keyof Providers>(deps: StageDeps, stage: K): Providers[K] {
  const provider = deps.providers[stage];
  if (!provider) throw new Error(`this worker has no ${stage} provider: start it with --stages including ${stage}`);
  return provider;
}
