// Hostile audio that got past the producer anyway reaches a worker whose STT decodes the audio
// itself (as a local model would, through toWav): a FLAC whose header says 1 s but holds 2 h, and
// one whose frames are garbage. Each fails its own turn with a clear code at the stt stage; the
// worker lives on, a turn running beside them completes, and so does the next one.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWav } from '../../src/shared/audio/to-wav.js';
import type { AudioInput } from '../../src/shared/ports/audio.js';
import type { SttInfo, SttProvider, TranscribeOptions, Transcription } from '../../src/shared/ports/stt-provider.js';
import { FakeSttProvider } from '../../src/shared/providers/fake-stt.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';
import { countingServer, makeHostileAudio, type CountingServer, type HostileAudio } from './support/hostile-audio.js';

/** An STT that decodes what it is given to 16 kHz WAV first (toWav, with its limits), then transcribes it (the fake). */
class DecodingStt implements SttProvider {
  readonly decoded: number[] = [];
  constructor(private readonly inner: SttProvider) {}
  info(): SttInfo {
    return this.inner.info();
  }
  isAvailable(): Promise<boolean> {
    return this.inner.isAvailable();
  }
  async transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcription> {
    const wav = await toWav(audio.bytes, options.signal ? { signal: options.signal } : {});
    this.decoded.push(wav.byteLength);
    return this.inner.transcribe({ bytes: wav, mimeType: 'audio/wav' }, options);
  }
}

let server: CountingServer;
let audio: HostileAudio;
let pipeline: Pipeline;
const stt = new DecodingStt(new FakeSttProvider({ transcripts: () => 'olá, tudo bem?' }));

beforeAll(async () => {
  server = await countingServer();
  audio = await makeHostileAudio(server, { decodeOnly: true });
  pipeline = await startPipeline({ providers: { stt } });
}, 300_000);

afterAll(async () => {
  await pipeline?.close();
  await audio?.cleanup();
  await server?.close();
});

async function failure(promise: Promise<unknown>): Promise<TurnFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TurnFailedError)) throw new Error(`expected the turn to fail, got ${error instanceof Error ? error.message : 'a result'}`);
  return error;
}

describe('a worker after hostile audio', () => {
  it('fails the bomb and the garbled file alone, with their codes, and keeps serving', async () => {
    const { client } = pipeline;
    const session = await client.createSession('hostile-worker');
    const other = await client.createSession('bystander');
    const speech = await speakPtBr('Olá, tudo bem?');

    // The producer's probe reads the headers, which look fine: both are accepted.
    const lying = await client.enqueueTurn({ sessionId: session.sessionId, audio: await readFile(audio.lyingFlac) });
    const bystander = await client.enqueueTurn({ sessionId: other.sessionId, audio: speech });
    const garbled = await client.enqueueTurn({ sessionId: session.sessionId, audio: await readFile(audio.garbledFlac) });

    const [bomb, broken, fine] = await Promise.all([failure(lying.result()), failure(garbled.result()), bystander.result()]);
    expect(bomb).toMatchObject({ stage: 'stt', code: 'audio_too_long' });
    expect(bomb.message).toContain('decodes to more than 10.0 min');
    expect(broken).toMatchObject({ stage: 'stt', code: 'audio_corrupt' });
    expect(fine.transcription).toBe('olá, tudo bem?');

    // Not retried: the input is wrong, another attempt would not help.
    const stored = await pipeline.stores.turns.get(lying.turnId);
    expect(stored?.status).toBe('failed');
    // Nothing decoded past the limit reached the STT.
    expect(Math.max(...stt.decoded)).toBeLessThan(25 * 1024 * 1024);

    // The same worker, the same session: the next turn completes.
    const next = await client.enqueueTurn({ sessionId: session.sessionId, audio: speech });
    expect((await next.result()).replyText).toContain('olá, tudo bem?');
    expect(pipeline.worker).toBeDefined();
  }, 180_000);
});
