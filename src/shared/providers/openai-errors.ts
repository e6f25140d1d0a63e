// The openai package's errors → ProviderError, by class and HTTP status; never by message text
// (the classifier is shared with the Groq providers: sdk-errors.ts).
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import type { ProviderError } from './provider-error.js';
import { classifySdkError, type SdkErrorClasses } from './sdk-errors.js';

const OPENAI_ERRORS: SdkErrorClasses = {
  base: OpenAIError,
  api: APIError,
  connection: APIConnectionError,
  connectionTimeout: APIConnectionTimeoutError,
  userAbort: APIUserAbortError,
};

/**
 * Classifies anything an openai call threw: 429 → rate_limited (with retry-after), 5xx →
 * server, 401/403 → auth, other 4xx → bad_request, timeout, connection, aborted. `signal` is
 * the caller's: an error that surfaces after the caller aborted is an abort.
 */
export function classifyOpenAiError(error: unknown, provider: string, signal?: AbortSignal): ProviderError {
  return classifySdkError(error, OPENAI_ERRORS, provider, signal);
}
