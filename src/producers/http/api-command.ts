// `voxq api`: serves the HTTP API, Bull Board, /metrics and health until SIGTERM.
import { loadConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { onShutdownSignals } from '../../shared/shutdown.js';
import { startTracing } from '../../shared/telemetry/tracing.js';
import { startApiProcess } from './api-process.js';

export async function runApiCommand(options: { port?: number; host?: string }): Promise<void> {
  const config = loadConfig();
  const log = createLogger('voxq-api', config.VOXQ_LOG_LEVEL);
  const tracing = startTracing('voxq-api');
  const api = await startApiProcess({
    config,
    tracing,
    log,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
  onShutdownSignals(() => api.close(), log);
}
