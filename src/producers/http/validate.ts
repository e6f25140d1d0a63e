// Request parts checked against a zod schema: a failure is a 400 `invalid_input` naming each field.
import type { z } from 'zod';
import { inputErrorFrom } from '../../shared/zod-error.js';

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw inputErrorFrom(parsed.error, what);
  return parsed.data;
}
