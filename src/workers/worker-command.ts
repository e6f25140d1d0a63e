// `voxq worker`: runs stage workers until SIGTERM.
import { loadConfig, requireMongoUrl } from '../shared/config.js';
import { stageNameSchema, type StageName } from '../shared/contracts/turn.js';
import { InputError } from '../shared/errors.js';
import { pinProcessToGpu, resolveGpuSelector } from '../shared/gpu/open-gpu-manager.js';
import { runWorkerPerCard } from '../shared/gpu/per-card-workers.js';
import type { PinnedGpu } from '../shared/gpu/pinned-gpu.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { logLoadProgress } from '../shared/providers/kokoro/load-progress-log.js';
import { OtelMetrics } from '../shared/telemetry/otel-metrics.js';
import { createProviders, type Providers } from '../shared/providers/create-providers.js';
import { onShutdownSignals } from '../shared/shutdown.js';
import { openMongoStores } from '../shared/store/mongo-stores.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { openWorkerProcess, type WorkerProcess } from './worker-process.js';

export function parseStages(value: string): StageName[] {
  const stages = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = stages.filter((s) => !stageNameSchema.safeParse(s).success);
  if (stages.length === 0 || bad.length > 0) {
    throw new InputError('invalid_stages', `unknown stage(s) ${bad.join(', ') || '(none)'}: choose from stt, llm, tts`);
  }
  return [...new Set(stages)] as StageName[];
}

export async function runWorkerCommand(options: { stages: string; concurrency: number; gpu?: string }): Promise<void> {
  const config = loadConfig();
  const stages = parseStages(options.stages);
  const log = createLogger('voxq-worker', config.VOXQ_LOG_LEVEL);
  // Fail before connecting anything when a provider is misconfigured (e.g. no GROQ_API_KEY).
  const providers = createProviders(config, stages, { onModelProgress: logLoadProgress(log) });
  let gpu: PinnedGpu | undefined;
  const started: { worker?: WorkerProcess } = {};
  const cards = options.gpu === undefined ? undefined : await resolveGpuSelector(config, options.gpu);
  if (cards && cards.length > 1) {
    // --gpu all: one worker process per card, each pinned with CUDA_VISIBLE_DEVICES.
    process.exitCode = await runWorkerPerCard(cards, ['--stages', stages.join(','), '--concurrency', String(options.concurrency)], log);
    return;
  }
  // From here a SIGTERM closes whatever has started: the workers once they run; before that (pinning,
  // a model download) the model and the GPU reservation. Registered first, so no signal finds
  // the process without a handler (the default action would kill it on the spot).
  onShutdownSignals(async () => {
    if (started.worker) return started.worker.close();
    await providers.tts?.close?.();
    await gpu?.close();
  }, log);
  if (cards?.[0]) {
    const models = stages.map((stage) => ({ service: stage, ...modelOf(providers, stage) }));
    gpu = await pinProcessToGpu(config, cards[0], models, { log, metrics: new OtelMetrics() });
  }
  // A local model loads only once its GPU memory is reserved, and before the first job.
  await loadModels(providers, gpu, log);
  const tracing = startTracing('voxq-worker');
  const stores = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
  started.worker = await openWorkerProcess({ config, stages, concurrency: options.concurrency, stores, providers, tracing, log, ...(gpu ? { gpu } : {}) });
}

async function loadModels(providers: Partial<Providers>, gpu: PinnedGpu | undefined, log: Logger): Promise<void> {
  const tts = providers.tts;
  if (!tts?.load) return;
  const started = performance.now();
  try {
    await tts.load({ onGpu: gpu !== undefined && !gpu.card.simulated });
  } catch (error) {
    await gpu?.close();
    throw error;
  }
  log.info({ model: tts.info().model, loadMs: Math.round(performance.now() - started) }, 'model loaded');
}

function modelOf(providers: Partial<Providers>, stage: StageName): { model: string; provider: string } {
  const info = providers[stage]?.info();
  return { model: info?.model ?? 'unknown', provider: info?.provider ?? 'unknown' };
}
