// What the Groq providers share: the groq-sdk client built from one set of options, and the
// availability check (the key works and the configured model is served).
import { Groq } from 'groq-sdk';
import { ProviderError } from './provider-error.js';

export interface GroqClientOptions {
  apiKey: string;
  /** Without `/openai/v1`: groq-sdk appends it. Unset → the SDK's default. */
  baseURL?: string;
  /** Per request, until the response headers arrive (groq-sdk's `timeout`). Default 60 000. */
  timeoutMs?: number;
  /** groq-sdk's own retries; default 0 because voxq's stage runner retries. */
  maxRetries?: number;
}

export function createGroqClient(options: GroqClientOptions): Groq {
  if (!options.apiKey) {
    throw new ProviderError('groq: no API key (set GROQ_API_KEY)', { kind: 'auth', provider: 'groq' });
  }
  return new Groq({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    maxRetries: options.maxRetries ?? 0,
  });
}

/** True when the key works and `model` is among the models Groq serves it. */
export async function groqServesModel(client: Groq, model: string): Promise<boolean> {
  try {
    const list = await client.models.list();
    return list.data.some((m) => m.id === model);
  } catch {
    return false;
  }
}
