// What a caller injects into startWorkerProcess, checked before anything is opened: the stores,
// the metrics, and a provider for every stage the process runs (injected-parts.ts).
import { ConfigError } from '../shared/config.js';
import type { StageName } from '../shared/contracts/turn.js';
import { checkPart, checkStoreSet } from '../shared/injected-parts.js';
import { LLM_PROVIDER_PORT } from '../shared/ports/llm-provider.js';
import { METRICS_PORT } from '../shared/ports/metrics.js';
import type { PortSpec } from '../shared/ports/port-spec.js';
import { STT_PROVIDER_PORT } from '../shared/ports/stt-provider.js';
import { TTS_PROVIDER_PORT } from '../shared/ports/tts-provider.js';

const PROVIDER_PORTS: readonly (readonly [StageName, PortSpec])[] = [
  ['stt', STT_PROVIDER_PORT],
  ['llm', LLM_PROVIDER_PORT],
  ['tts', TTS_PROVIDER_PORT],
];

export interface InjectedWorkerParts {
  stages: readonly StageName[];
  stores: unknown;
  providers?: Partial<Record<StageName, unknown>> | undefined;
  metrics?: unknown;
}

/** Throws ConfigError `invalid_part` naming the part, its port and what it lacks. */
export function checkWorkerParts(parts: InjectedWorkerParts): void {
  checkStoreSet('stores', parts.stores);
  if (parts.metrics !== undefined) checkPart('metrics', parts.metrics, METRICS_PORT);
  if (parts.providers === undefined) return;
  for (const [stage, port] of PROVIDER_PORTS) {
    const provider = parts.providers[stage];
    if (provider !== undefined) checkPart(stage, provider, port);
    else if (parts.stages.includes(stage)) {
      throw new ConfigError(`${stage}: no ${port.name} injected for the ${stage} stage this process runs (providers.${stage})`, 'invalid_part');
    }
  }
}
