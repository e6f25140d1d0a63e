// `voxq worker`: runs stage workers until SIGTERM.
import { loadConfig, requireMongoUrl } from '../shared/config.js';
import { stageNameSchema, type StageName } from '../shared/contracts/turn.js';
import { InputError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { createProviders } from '../shared/providers/create-providers.js';
import { onShutdownSignals } from '../shared/shutdown.js';
import { openMongoStores } from '../shared/store/mongo-stores.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { startWorkerProcess } from './worker-process.js';

export function parseStages(value: string): StageName[] {
  const stages = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = stages.filter((s) => !stageNameSchema.safeParse(s).success);
  if (stages.length === 0 || bad.length > 0) {
    throw new InputError('invalid_stages', `unknown stage(s) ${bad.join(', ') || '(none)'}: choose from stt, llm, tts`);
  }
  return [...new Set(stages)] as StageName[];
}

export async function runWorkerCommand(options: { stages: string; concurrency: number }): Promise<void> {
  const config = loadConfig();
  const stages = parseStages(options.stages);
  const log = createLogger('voxq-worker', config.VOXQ_LOG_LEVEL);
  // Fail before connecting anything when a provider is misconfigured (e.g. no GROQ_API_KEY).
  const providers = createProviders(config, stages);
  const tracing = startTracing('voxq-worker');
  const stores = await openMongoStores(requireMongoUrl(config), config.VOXQ_MONGO_DB);
  const worker = startWorkerProcess({ config, stages, concurrency: options.concurrency, stores, providers, tracing, log });
  onShutdownSignals(() => worker.close(), log);
}
