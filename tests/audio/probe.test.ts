import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_AUDIO_BYTES, mimeTypeFor, probeAudio } from '../../src/shared/audio/probe.js';
import { encodeWavPcm16, fixWavHeader, readWavInfo } from '../../src/shared/audio/wav.js';
import { InputError } from '../../src/shared/errors.js';
import { FakeTtsProvider } from '../../src/shared/providers/fake-tts.js';
import { isProviderError } from '../../src/shared/providers/provider-error.js';
import { speakPtBr } from '../support/speech.js';
import { makeWav } from '../support/wav.js';

const SENTENCE = 'Olá, tudo bem? Eu gostaria de saber a previsão do tempo para amanhã.';
/** These tests check what ffprobe itself reads, also for WAV. */
const FFPROBE = { trustWavHeader: false } as const;

async function inputError(bytes: Uint8Array): Promise<InputError> {
  const error = await probeAudio(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InputError)) throw new Error(`expected an InputError, got ${String(error)}`);
  return error;
}

describe('probeAudio', () => {
  it('reads a 16-bit PCM WAV from its header, without running ffprobe', async () => {
    const bytes = await speakPtBr(SENTENCE, { sampleRateHz: 16_000 });
    const byHeader = await probeAudio(bytes, { ffprobe: '/nonexistent/ffprobe' });
    const byFfprobe = await probeAudio(bytes, FFPROBE);
    expect(byHeader).toEqual({ ...byFfprobe, durationMs: readWavInfo(bytes)?.durationMs });
    expect(Math.abs(byHeader.durationMs - byFfprobe.durationMs)).toBeLessThan(1);
    // A WAV header with no audio after it still goes to ffprobe (here: one that cannot start).
    await expect(probeAudio(bytes.subarray(0, 44), { ffprobe: '/nonexistent/ffprobe' })).rejects.toMatchObject({ code: 'ffprobe_unavailable' });
  });

  it.each([
    ['wav', 'wav', 'pcm_s16le', 'audio/wav'],
    ['mp3', 'mp3', 'mp3', 'audio/mpeg'],
    ['ogg', 'ogg', 'vorbis', 'audio/ogg'],
    ['flac', 'flac', 'flac', 'audio/flac'],
  ] as const)('reads real speech as %s', async (format, container, codec, mimeType) => {
    const reference = readWavInfo(await speakPtBr(SENTENCE));
    const bytes = await speakPtBr(SENTENCE, { format, sampleRateHz: 16_000 });
    const probed = await probeAudio(bytes, FFPROBE);
    expect(probed).toMatchObject({ container, codec, mimeType, sampleRateHz: 16_000, channels: 1 });
    // Lossy encoders pad a few frames; the length still matches the spoken sentence.
    expect(Math.abs(probed.durationMs - (reference?.durationMs ?? 0))).toBeLessThan(100);
  });

  it("reads espeak-ng's streamed WAV (placeholder sizes) by falling back to a file", async () => {
    const fixed = await speakPtBr('Bom dia.');
    const streamed = fixed.slice();
    new DataView(streamed.buffer).setUint32(4, 0x7ffff024, true);
    new DataView(streamed.buffer).setUint32(40, 0x7ffff000, true);
    const probed = await probeAudio(streamed, FFPROBE);
    expect(probed.durationMs).toBe(Math.round(readWavInfo(fixed)?.durationMs ?? 0));
  });

  it('rejects empty bytes', async () => {
    expect((await inputError(new Uint8Array())).code).toBe('audio_empty');
  });

  it('rejects random bytes as not audio', async () => {
    const error = await inputError(new Uint8Array(randomBytes(4096)));
    expect(error.code).toBe('audio_not_audio');
    expect(error.message).toMatch(/not audio/);
  });

  it('rejects a text file as not audio', async () => {
    const text = new TextEncoder().encode('Lista de compras:\n- pão\n- leite\n- café\n'.repeat(20));
    expect((await inputError(text)).code).toBe('audio_not_audio');
  });

  it('rejects a WAV cut off after its header as corrupt', async () => {
    const header = makeWav({ durationMs: 500 }).slice(0, 44);
    const error = await inputError(header);
    expect(error.code).toBe('audio_corrupt');
    expect(error.message).toMatch(/cut off|damaged/);
  });

  it('rejects a damaged MP3 as corrupt', async () => {
    const mp3 = await speakPtBr('Bom dia.', { format: 'mp3' });
    expect((await inputError(mp3.slice(0, 10))).code).toBe('audio_corrupt');
  });

  it('maps ffprobe format names to MIME types', () => {
    expect(mimeTypeFor('wav')).toBe('audio/wav');
    expect(mimeTypeFor('mp3')).toBe('audio/mpeg');
    expect(mimeTypeFor('ogg')).toBe('audio/ogg');
    expect(mimeTypeFor('flac')).toBe('audio/flac');
    expect(mimeTypeFor('mov,mp4,m4a,3gp,3g2,mj2')).toBe('audio/mp4');
    expect(mimeTypeFor('matroska,webm')).toBe('audio/webm');
    expect(mimeTypeFor('tty')).toBe('application/octet-stream');
    expect(MAX_AUDIO_BYTES).toBe(25 * 1024 * 1024);
  });
});

describe('wav', () => {
  it('round-trips PCM and repairs placeholder sizes', () => {
    const wav = encodeWavPcm16(new Int16Array(8000), 16_000);
    expect(readWavInfo(wav)).toEqual({ formatTag: 1, sampleRateHz: 16_000, channels: 1, bitsPerSample: 16, dataBytes: 16_000, durationMs: 500 });
    const broken = new Uint8Array([...wav, 7]); // a stray byte, and sizes as espeak-ng streams them
    new DataView(broken.buffer).setUint32(4, 0x7fffffff, true);
    new DataView(broken.buffer).setUint32(40, 0x7fffffff, true);
    expect(fixWavHeader(broken)).toEqual(wav);
    expect(readWavInfo(new TextEncoder().encode('not a wav'))).toBeNull();
  });
});

describe('FakeTtsProvider scripting', () => {
  const PT_BR = { voice: 'pf_dora', language: 'pt-BR', speed: 1 };

  it('throws scripted 429 and 5xx failures in order, then speaks', async () => {
    const tts = new FakeTtsProvider({ failures: [{ kind: 'rate_limited', retryAfterMs: 1200 }, { kind: 'server' }] });
    const first = await tts.synthesize('Oi.', PT_BR).catch((e: unknown) => e);
    expect(isProviderError(first) && [first.kind, first.status, first.retryAfterMs, first.retryable]).toEqual(['rate_limited', 429, 1200, true]);
    const second = await tts.synthesize('Oi.', PT_BR).catch((e: unknown) => e);
    expect(isProviderError(second) && [second.kind, second.status, second.retryable]).toEqual(['server', 503, true]);
    const audio = await tts.synthesize('Oi.', PT_BR);
    expect(audio.durationMs).toBe(30);
    expect(tts.script.calls).toBe(3);
    expect(tts.lastCall).toEqual({ text: 'Oi.', options: PT_BR });
  });

  it('waits its latency and makes audio proportional to the text', async () => {
    const tts = new FakeTtsProvider({ latencyMs: 50, msPerChar: 20, sampleRateHz: 8000 });
    const started = performance.now();
    const audio = await tts.synthesize('x'.repeat(50), PT_BR);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(audio.durationMs).toBe(1000);
    expect((await tts.synthesize('x'.repeat(50), { ...PT_BR, speed: 2 })).durationMs).toBe(500);
    const probed = await probeAudio(audio.bytes, { trustWavHeader: false });
    expect(probed).toMatchObject({ container: 'wav', sampleRateHz: 8000, channels: 1, durationMs: 1000 });
  });
});
