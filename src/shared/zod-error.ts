import type { z } from 'zod';
import { InputError } from './errors.js';

/** A zod failure as one InputError naming each bad field. */
export function inputErrorFrom(error: z.ZodError, what: string): InputError {
  const problems = error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  return new InputError('invalid_input', `invalid ${what}: ${problems.join('; ')}`);
}
