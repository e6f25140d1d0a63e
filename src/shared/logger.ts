// pino to stderr, so stdout carries only what a command prints for people or pipes.
// Messages are static strings; ids, sizes and timings go in fields.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level: string = process.env.VOXQ_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: ['apiKey', '*.apiKey', 'headers.authorization'] }, pino.destination(2));
}
