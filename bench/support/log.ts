// The benchmarks' logger: pino on stderr (stdout carries only the JSON figures).
import { createLogger, type Logger } from '../../src/shared/logger.js';

export function benchLogger(name: string): Logger {
  return createLogger(name, process.env.VOXQ_BENCH_LOG_LEVEL ?? 'info');
}

/** Prints a part's figures: exactly one JSON line on stdout. */
export function printFigures(figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
