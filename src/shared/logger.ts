// pino to stderr, so stdout carries only what a command prints for people or pipes.
// Messages are static strings; ids, sizes and timings go in fields.
import { pino, type Logger } from 'pino';
import { isProviderError } from './providers/provider-error.js';

export type { Logger };

export function createLogger(name: string, level: string = process.env.VOXQ_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: ['apiKey', '*.apiKey', 'headers.authorization'], serializers: { err: serializeError } }, pino.destination(2));
}

/**
 * pino's error serializer (message and stack with their causes), except that the chain stops at
 * a ProviderError: its cause is the provider SDK's error, whose message is the provider's answer,
 * and providers quote the key they were sent (or the user's words) in their errors. The
 * ProviderError's own message, kind and status say what happened.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error);
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 10; e = e.cause) {
    chain.push(e);
    if (!isProviderError(e)) continue;
    if (e.cause === undefined) break;
    return { ...serialized, message: chain.map((c) => c.message).join(': '), stack: chain.map((c) => c.stack).join('\ncaused by: ') };
  }
  return serialized;
}
