// What only the speech-native LLM does: the turn's audio reaches the server as an `input_audio`
// part of the last user message (WAV and MP3 as they are, other formats converted to WAV), and
// transcription is there only when configured. Against the local stand-in's OpenAI API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavInfo } from '../../src/shared/audio/wav.js';
import { ConfigError, configSchema } from '../../src/shared/config.js';
import type { ChatMessage } from '../../src/shared/ports/llm-provider.js';
import { createLlmProvider } from '../../src/shared/providers/create-providers.js';
import { SpeechNativeLlmProvider } from '../../src/shared/providers/speech-native-llm.js';
import { sha256Hex, SPEECH_LLM_MODELS, startGroqStandin, type GroqStandin, type StandinRequest } from '../support/groq-standin.js';
import { collect, rejection } from '../support/provider-calls.js';
import { speakPtBr } from '../support/speech.js';

const MODEL = SPEECH_LLM_MODELS[0] ?? '';
const SAID = 'Que horas são em Recife?';
const HISTORY: readonly ChatMessage[] = [
  { role: 'user', content: 'Meu nome é Ana.' },
  { role: 'assistant', content: 'Prazer, Ana!' },
];

let standin: GroqStandin;
let wav: Uint8Array;
beforeAll(async () => {
  standin = await startGroqStandin();
  wav = await speakPtBr(SAID);
  standin.setTranscript(wav, SAID);
});
afterAll(async () => {
  await standin.close();
});

function provider(options: { transcribes?: boolean; model?: string } = {}): SpeechNativeLlmProvider {
  return new SpeechNativeLlmProvider({ apiKey: standin.apiKey, baseURL: standin.openaiUrl, model: MODEL, timeoutMs: 5000, ...options });
}

function lastRequest(): StandinRequest | undefined {
  return standin.requests.at(-1);
}

describe('speech-native LLM: audio in, text out', () => {
  it('describes itself as taking audio', () => {
    expect(provider().info()).toEqual({ provider: 'speech-native', model: MODEL, supportsStreaming: true, acceptsAudio: true });
  });

  it("sends the turn's audio as input_audio in the last user message, after system prompt and history", async () => {
    const result = await provider().generate('', { systemPrompt: 'Seja breve.', history: HISTORY, audio: { bytes: wav, mimeType: 'audio/wav' } });
    const request = lastRequest();
    expect(request).toMatchObject({ path: '/v1/chat/completions', status: 200, model: MODEL });
    expect(request?.messages?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(request?.inputAudio).toEqual([{ message: 3, format: 'wav', sizeBytes: wav.byteLength, sha256: sha256Hex(wav) }]);
    // The stand-in hears the audio as its transcript: two messages came before it.
    expect(result.text).toBe(`Resposta 2: ${SAID}`);
  });

  it('streams the same answer, and sends a prompt given with the audio as a text part', async () => {
    const llm = provider();
    const options = { audio: { bytes: wav, mimeType: 'audio/wav' } };
    const pieces = await collect(llm.stream('Responda em uma frase.', options));
    expect(pieces.length).toBeGreaterThan(1);
    expect(lastRequest()?.stream).toBe(true);
    expect(lastRequest()?.messages?.at(-1)?.content).toBe('Responda em uma frase.');
    expect(pieces.join('')).toBe((await llm.generate('Responda em uma frase.', options)).text);
  });

  it('sends MP3 as it is and converts other formats (Ogg Vorbis) to 16 kHz mono WAV', async () => {
    const mp3 = await speakPtBr(SAID, { format: 'mp3' });
    await provider().generate('', { audio: { bytes: mp3, mimeType: 'audio/mpeg' } });
    expect(lastRequest()?.inputAudio).toEqual([{ message: 0, format: 'mp3', sizeBytes: mp3.byteLength, sha256: sha256Hex(mp3) }]);

    const ogg = await speakPtBr(SAID, { format: 'ogg' });
    await provider().generate('', { audio: { bytes: ogg, mimeType: 'audio/ogg' } });
    const sent = lastRequest()?.inputAudio?.[0];
    expect(sent).toMatchObject({ format: 'wav', message: 0 });
    expect(lastRequest()?.status).toBe(200);
    // The stand-in checked the bytes are WAV; 16-bit mono at 16 kHz is 32 bytes a millisecond.
    const spokenMs = readWavInfo(wav)?.durationMs ?? 0;
    expect(spokenMs).toBeGreaterThan(500);
    expect(Math.abs(((sent?.sizeBytes ?? 0) - 44) / 32 - spokenMs)).toBeLessThan(0.1 * spokenMs);
  });

  it('refuses audio it cannot send, before calling the server', async () => {
    const before = standin.requests.length;
    const unreadable = await rejection(provider().generate('', { audio: { bytes: new Uint8Array(2000).fill(7), mimeType: 'audio/ogg' } }));
    expect(unreadable).toMatchObject({ kind: 'bad_request', retryable: false, provider: 'speech-native' });
    const empty = await rejection(provider().generate('', { audio: { bytes: new Uint8Array(), mimeType: 'audio/wav' } }));
    expect(empty.kind).toBe('bad_request');
    expect(standin.requests.length).toBe(before);
  });

  it('gets a 400 (bad_request) from a server whose model does not take audio', async () => {
    const error = await rejection(provider({ model: 'gpt-4o-mini' }).generate('', { audio: { bytes: wav, mimeType: 'audio/wav' } }));
    expect(error).toMatchObject({ kind: 'bad_request', status: 400 });
  });
});

describe('speech-native LLM: transcription', () => {
  it('is unsupported unless configured, without a request', async () => {
    const llm = provider();
    expect(llm.supportsTranscription()).toBe(false);
    const before = standin.requests.length;
    const error = await rejection(llm.transcribe({ bytes: wav, mimeType: 'audio/wav' }, { language: 'pt-BR' }));
    expect(error).toMatchObject({ kind: 'unsupported', retryable: false });
    expect(standin.requests.length).toBe(before);
  });

  it("uses the server's audio/transcriptions for the same model when configured", async () => {
    const llm = provider({ transcribes: true });
    expect(llm.supportsTranscription()).toBe(true);
    const result = await llm.transcribe({ bytes: wav, mimeType: 'audio/wav' }, { language: 'pt-BR' });
    expect(result.text).toBe(SAID);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(lastRequest()).toMatchObject({ path: '/v1/audio/transcriptions', model: MODEL, language: 'pt', status: 200 });
  });

  it('names itself, not openai, in transcription errors', async () => {
    const llm = provider({ transcribes: true });
    const empty = await rejection(llm.transcribe({ bytes: new Uint8Array(), mimeType: 'audio/wav' }, { language: 'pt-BR' }));
    expect(empty).toMatchObject({ kind: 'bad_request', provider: 'speech-native' });
    standin.failNext({ status: 503, endpoint: 'transcriptions' });
    const failed = await rejection(llm.transcribe({ bytes: wav, mimeType: 'audio/wav' }, { language: 'pt-BR' }));
    expect(failed).toMatchObject({ kind: 'server', retryable: true, provider: 'speech-native', status: 503 });
    expect(failed.message).toMatch(/^speech-native: /);
  });
});

describe('speech-native LLM from config', () => {
  const config = (env: Record<string, string>) => configSchema.parse({ VOXQ_LLM: 'speech-native', OPENAI_API_KEY: standin.apiKey, ...env });

  it('uses VOXQ_SPEECH_LLM_BASE_URL, else OPENAI_BASE_URL, with the configured model and transcription', async () => {
    const fallback = createLlmProvider(config({ OPENAI_BASE_URL: standin.openaiUrl }));
    expect(fallback.info()).toMatchObject({ provider: 'speech-native', model: 'fixie-ai/ultravox-v0_5-llama-3_1-8b', acceptsAudio: true });
    expect(fallback.supportsTranscription()).toBe(false);
    await expect(fallback.isAvailable()).resolves.toBe(true);

    const own = createLlmProvider(
      config({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', VOXQ_SPEECH_LLM_BASE_URL: standin.openaiUrl, VOXQ_SPEECH_LLM_TRANSCRIBES: 'true' }),
    );
    expect(own.supportsTranscription()).toBe(true);
    expect((await own.generate('', { audio: { bytes: wav, mimeType: 'audio/wav' } })).text).toBe(`Resposta 0: ${SAID}`);
  });

  it("refuses OpenAI's own API without a key, naming VOXQ_LLM=speech-native and its variables", () => {
    for (const env of [{}, { VOXQ_SPEECH_LLM_BASE_URL: 'https://api.openai.com/v1' }]) {
      const make = () => createLlmProvider(configSchema.parse({ VOXQ_LLM: 'speech-native', ...env }));
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(/VOXQ_LLM=speech-native needs OPENAI_API_KEY.*VOXQ_SPEECH_LLM_BASE_URL or OPENAI_BASE_URL/);
    }
  });
});
