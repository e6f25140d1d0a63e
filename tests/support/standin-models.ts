// The models the stand-in serves, by API and endpoint: requests for other models are refused as
// Groq and OpenAI refuse them (404 unknown, 400 not for this endpoint), and the model lists.
import { HttpFailure, type Flavor } from './standin-http.js';
import { SPEECH_LLM_MODELS } from './standin-audio-chat.js';
import { TTS_MODELS } from './standin-speech.js';

export const STT_MODELS: readonly string[] = ['whisper-large-v3-turbo', 'whisper-large-v3'];
export const CHAT_MODELS: readonly string[] = ['openai/gpt-oss-20b', 'openai/gpt-oss-120b'];
export const OPENAI_STT_MODELS: readonly string[] = ['whisper-1', 'gpt-4o-mini-transcribe'];
export const OPENAI_CHAT_MODELS: readonly string[] = ['gpt-4o-mini', 'gpt-4o'];

type ModelEndpoint = 'chat' | 'transcriptions' | 'speech';

const MODELS: Readonly<Record<Flavor, Readonly<Record<ModelEndpoint, readonly string[]>>>> = {
  groq: { chat: CHAT_MODELS, transcriptions: STT_MODELS, speech: [] },
  openai: { chat: [...OPENAI_CHAT_MODELS, ...SPEECH_LLM_MODELS], transcriptions: [...OPENAI_STT_MODELS, ...SPEECH_LLM_MODELS], speech: TTS_MODELS },
};

export function checkModel(model: string, flavor: Flavor, what: ModelEndpoint): void {
  const served = MODELS[flavor];
  if (!Object.values(served).some((models) => models.includes(model))) {
    throw new HttpFailure(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'model_not_found');
  }
  if (!served[what].includes(model)) {
    throw new HttpFailure(400, `model \`${model}\` does not support ${what === 'chat' ? 'chat completions' : what}`, 'model_not_supported');
  }
}

/** GET /models, in each API's shape. */
export function modelList(flavor: Flavor): unknown {
  const created = 1_700_000_000;
  if (flavor === 'openai') {
    const all = Object.values(MODELS.openai).flat();
    return { object: 'list', data: all.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) };
  }
  const entry = (id: string, ownedBy: string, contextWindow: number) => ({
    id,
    object: 'model',
    created,
    owned_by: ownedBy,
    active: true,
    context_window: contextWindow,
    public_apps: null,
  });
  return {
    object: 'list',
    data: [
      ...STT_MODELS.map((id) => entry(id, 'OpenAI', 448)),
      ...CHAT_MODELS.map((id) => entry(id, 'OpenAI', 131_072)),
    ],
  };
}
