// SIGTERM/SIGINT: the first asks for a graceful close (active jobs finish); a second forces.
import type { Logger } from './logger.js';

export function onShutdownSignals(close: () => Promise<void>, log: Logger): void {
  let asked = false;
  const handler = (signal: NodeJS.Signals) => {
    if (asked) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    asked = true;
    log.info({ signal }, 'shutting down: finishing active jobs (send again to force)');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
