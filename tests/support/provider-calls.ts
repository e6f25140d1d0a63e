// Helpers the provider tests share: the ProviderError a call fails with, and a stream's pieces.
import { isProviderError, type ProviderError } from '../../src/shared/providers/provider-error.js';

/** The ProviderError the call rejects with; throws when it succeeds or fails some other way. */
export async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (isProviderError(error)) return error;
    throw new Error(`expected a ProviderError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/** Every piece a stream yields, in order. */
export async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of stream) pieces.push(piece);
  return pieces;
}
