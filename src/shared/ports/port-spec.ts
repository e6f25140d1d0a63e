// A port as data: its name, the methods every implementation has, the optional ones, and the
// schemas of what its cheap, synchronous, side-effect-free methods answer (info(), audioFormat()).
// The type guards (isLlmProvider …) and the checks where parts are injected read the same spec,
// so they cannot disagree.
import type { z } from 'zod';

export interface PortSpec {
  /** The interface's name, as a message says it: `LlmProvider`. */
  name: string;
  methods: readonly string[];
  /** Methods an implementation may leave out; when present they must be functions. */
  optionalMethods?: readonly string[];
  /** Methods called with no arguments to check their answer (only ones that are synchronous and pure). */
  answers?: Readonly<Record<string, z.ZodType>>;
}

/**
 * Why `value` is not an implementation of `port`, in words that start with the port's name
 * (`LlmProvider is missing stream()`); undefined when it is one.
 */
export function portProblem(value: unknown, port: PortSpec): string | undefined {
  if (typeof value !== 'object' || value === null) return `${port.name} expected, got ${describeValue(value)}`;
  const record = value as Record<string, unknown>;
  const missing = port.methods.filter((method) => typeof record[method] !== 'function');
  if (missing.length > 0) return `${port.name} is missing ${missing.map((method) => `${method}()`).join(', ')}`;
  const notFunctions = (port.optionalMethods ?? []).filter((method) => record[method] !== undefined && typeof record[method] !== 'function');
  if (notFunctions.length > 0) return `${port.name}.${notFunctions.join(', ')} must be a method when present`;
  for (const [method, schema] of Object.entries(port.answers ?? {})) {
    let answer: unknown;
    try {
      answer = (record[method] as () => unknown).call(value);
    } catch (error) {
      return `${port.name}.${method}() threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
      return `${port.name}.${method}() does not answer what the port says (${problems.join('; ')})`;
    }
  }
  return undefined;
}

/** The type guards' test: every method there, and the cheap answers of the right shape. */
export function conformsTo(value: unknown, port: PortSpec): boolean {
  return portProblem(value, port) === undefined;
}

/** `a Promise`, `a string`, `null` …: what was there instead, for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Promise) return 'a Promise';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value}`;
}
