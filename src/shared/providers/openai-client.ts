// What the OpenAI-compatible providers share: the openai client built from one set of options
// (any server: OpenAI, vLLM, Ollama, Kokoro-FastAPI, a Whisper server), and the availability check.
import { NotFoundError, OpenAI } from 'openai';
import { ProviderError } from './provider-error.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAiClientOptions {
  /** Required for OpenAI itself; optional for a local server (no Authorization header is sent). */
  apiKey?: string;
  /** With the version path, e.g. `http://127.0.0.1:8880/v1`. Unset → OpenAI's. */
  baseURL?: string;
  /** Per request, until the response headers arrive. Default 60 000. */
  timeoutMs?: number;
  /** The client's own retries; default 0 because voxq's stage runner retries. */
  maxRetries?: number;
}

/** True for OpenAI's own API, which needs a key (a local server may not). */
export function isOpenAiHosted(baseURL: string | undefined): boolean {
  if (baseURL === undefined) return true;
  try {
    return new URL(baseURL).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

// The client reads no environment of its own: everything comes from voxq's config.
const NO_KEY = 'voxq-no-key';

/** `provider` names the provider in the error for a missing key (default `openai`). */
export function createOpenAiClient(options: OpenAiClientOptions, provider = 'openai'): OpenAI {
  const apiKey = options.apiKey?.trim() ? options.apiKey.trim() : undefined;
  if (apiKey === undefined && isOpenAiHosted(options.baseURL)) {
    throw new ProviderError(`${provider}: no API key (set OPENAI_API_KEY, or a base URL for a local server)`, {
      kind: 'auth',
      provider,
    });
  }
  return new OpenAI({
    // The client insists on a key; without one, the header is dropped below.
    apiKey: apiKey ?? NO_KEY,
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    baseURL: options.baseURL ?? OPENAI_DEFAULT_BASE_URL,
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 0,
    ...(apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
  });
}

/**
 * True when the server answers and serves `model`. A server without a model list (404) is
 * taken at its word: it answered, and many single-model servers list nothing.
 */
export async function openAiServesModel(client: OpenAI, model: string): Promise<boolean> {
  try {
    const list = await client.models.list();
    return list.data.some((m) => m.id === model || m.id === `${model}:latest`);
  } catch (error) {
    return error instanceof NotFoundError;
  }
}
