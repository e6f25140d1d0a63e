// groq-sdk's errors → ProviderError, by class and HTTP status; never by message text
// (the classifier itself is shared with the OpenAI providers: sdk-errors.ts).
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  GroqError,
} from 'groq-sdk';
import type { ProviderError } from './provider-error.js';
import { classifySdkError, retryAfterFromHeaders, type SdkErrorClasses } from './sdk-errors.js';

export { retryAfterFromHeaders };

const GROQ_ERRORS: SdkErrorClasses = {
  base: GroqError,
  api: APIError,
  connection: APIConnectionError,
  connectionTimeout: APIConnectionTimeoutError,
  userAbort: APIUserAbortError,
};

/**
 * Classifies anything a groq-sdk call threw. `signal` is the caller's: an error that surfaces
 * after the caller aborted is an abort, whatever the SDK made of it.
 */
export function classifyGroqError(error: unknown, provider: string, signal?: AbortSignal): ProviderError {
  return classifySdkError(error, GROQ_ERRORS, provider, signal);
}
