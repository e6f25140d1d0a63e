// The audio-llm-tts route: with a speech-native LLM configured, an audio turn goes straight to
// the LLM stage (which hears the audio), then TTS; the transcript is still recorded (by an STT
// job beside the LLM, or by the LLM itself) and fills the session's history. Real stage
// runner, real Redis, the test database, fake providers.
import { afterEach, describe, expect, it } from 'vitest';
import { stageJobId } from '../../src/shared/contracts/jobs.js';
import { messageId } from '../../src/shared/contracts/ids.js';
import { TurnFailedError } from '../../src/producers/sdk/turn-result.js';
import { ProviderError } from '../../src/shared/providers/provider-error.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { speakPtBr } from '../support/speech.js';

const SPEECH_NATIVE = { VOXQ_LLM: 'speech-native' };
const SAID = 'Qual é a previsão do tempo para amanhã?';

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

describe('the audio → llm → tts route', () => {
  it('sends the audio to the LLM without waiting for STT, records the route, the transcript and both messages', async () => {
    // The transcript arrives well after the reply audio: the STT job is what completes the turn.
    pipeline = await startPipeline({ env: SPEECH_NATIVE, llm: { acceptsAudio: true }, stt: { transcripts: [SAID], latencyMs: 1000 } });
    const { client, stores } = pipeline;
    const session = await client.createSession('user-sn-1');
    const audio = await speakPtBr(SAID);
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio });
    const result = await handle.result();

    // The LLM heard the audio itself (loaded by reference), with no prompt text.
    const call = pipeline.llm.lastCall;
    expect(call?.prompt).toBe('');
    expect(sameBytes(call?.options.audio?.bytes, audio)).toBe(true);
    expect(call?.options.audio?.mimeType).toBe('audio/wav');
    expect(result.replyText).toContain(`um áudio de ${audio.byteLength} bytes`);
    expect(result.transcription).toBe(SAID);

    const turn = await stores.turns.get(handle.turnId);
    expect(turn?.route).toBe('audio-llm-tts');
    expect(turn?.status).toBe('completed');
    const { stt, llm, tts } = turn?.stages ?? {};
    // The producer enqueued the LLM job (before the STT job); the reply was done before the transcript.
    expect(llm?.timing.enqueuedAt.getTime()).toBeLessThanOrEqual(stt?.timing.enqueuedAt.getTime() ?? 0);
    expect(tts?.timing.finishedAt.getTime()).toBeLessThan(stt?.timing.finishedAt.getTime() ?? 0);
    expect(stt?.output).toMatchObject({ text: SAID, model: 'fake-stt' });
    expect(sameBytes(pipeline.stt.lastCall?.audio.bytes, audio)).toBe(true);

    const messages = await client.history(session.sessionId);
    expect(messages.map((m) => [m.role, m.messageId, m.content])).toEqual([
      ['user', messageId(handle.turnId, 'user'), SAID],
      ['assistant', messageId(handle.turnId, 'assistant'), result.replyText],
    ]);
    for (const stage of ['stt', 'llm', 'tts'] as const) expect(result.timing[stage]?.attempts).toBe(1);
  });

  it('lets a later turn see the audio turn in its context, and leaves text turns on text → llm → tts', async () => {
    pipeline = await startPipeline({ env: SPEECH_NATIVE, llm: { acceptsAudio: true }, stt: { transcripts: [SAID] } });
    const { client, stores } = pipeline;
    const session = await client.createSession('user-sn-2');
    await (await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) })).result();
    const text = await client.enqueueTurn({ sessionId: session.sessionId, text: 'E depois de amanhã?' });
    const result = await text.result();

    const call = pipeline.llm.lastCall;
    expect(call?.prompt).toBe('E depois de amanhã?');
    expect(call?.options.audio).toBeUndefined();
    expect(call?.options.history?.map((m) => [m.role, m.content])).toEqual([
      ['user', SAID],
      ['assistant', expect.stringContaining('um áudio de')],
    ]);
    expect(result.replyText).toContain('Já conversamos 1 vez');
    expect(result.transcription).toBeUndefined();
    expect(result.timing.stt).toBeUndefined();
    expect((await stores.turns.get(text.turnId))?.route).toBe('text-llm-tts');
    expect(await pipeline.queues.get('stt').getJob(stageJobId(text.turnId, 'stt'))).toBeUndefined();
  });

  it('runs no STT job at all when the speech LLM transcribes (VOXQ_SPEECH_LLM_TRANSCRIBES=true)', async () => {
    pipeline = await startPipeline({
      env: { ...SPEECH_NATIVE, VOXQ_SPEECH_LLM_TRANSCRIBES: 'true' },
      llm: { acceptsAudio: true, transcript: SAID },
    });
    const { client, stores } = pipeline;
    const session = await client.createSession('user-sn-3');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    const result = await handle.result();

    expect(result.transcription).toBe(SAID);
    expect(pipeline.stt.lastCall).toBeUndefined();
    expect(await pipeline.queues.get('stt').getJob(stageJobId(handle.turnId, 'stt'))).toBeUndefined();
    expect(await pipeline.queues.get('stt').getJobCountByTypes('completed', 'waiting', 'active', 'delayed', 'failed')).toBe(0);
    const turn = await stores.turns.get(handle.turnId);
    expect(turn?.route).toBe('audio-llm-tts');
    expect(turn?.stages.stt?.output).toMatchObject({ text: SAID, provider: 'fake', model: 'fake-llm' });
    expect((await client.history(session.sessionId)).map((m) => m.content)).toEqual([SAID, result.replyText]);
  });

  it("still records the transcript when the producer expects the LLM to transcribe but the worker's cannot", async () => {
    pipeline = await startPipeline({
      env: { ...SPEECH_NATIVE, VOXQ_SPEECH_LLM_TRANSCRIBES: 'true' },
      llm: { acceptsAudio: true },
      stt: { transcripts: [SAID] },
    });
    const { client } = pipeline;
    const session = await client.createSession('user-sn-6');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    const result = await handle.result();
    // The LLM stage's hand-off asked the STT stage for it.
    expect(result.transcription).toBe(SAID);
    expect(result.timing.stt?.queueWaitMs).toBeGreaterThanOrEqual(0);
    expect((await client.history(session.sessionId)).map((m) => m.content)).toEqual([SAID, result.replyText]);
  });

  it('keeps audio turns on stt → llm → tts without a speech-native LLM', async () => {
    pipeline = await startPipeline({ stt: { transcripts: [SAID] } });
    const { client, stores } = pipeline;
    const session = await client.createSession('user-sn-4');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    await handle.result();
    expect((await stores.turns.get(handle.turnId))?.route).toBe('stt-llm-tts');
    expect(pipeline.llm.lastCall?.prompt).toBe(SAID);
    expect(pipeline.llm.lastCall?.options.audio).toBeUndefined();
  });

  it("fails the turn clearly when the worker's LLM does not take audio", async () => {
    pipeline = await startPipeline({ env: SPEECH_NATIVE, stt: { transcripts: [SAID] } });
    const { client } = pipeline;
    const session = await client.createSession('user-sn-5');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    const error = await handle.result().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TurnFailedError);
    expect(error).toMatchObject({ stage: 'llm', code: 'llm_no_audio' });
    // A failed turn leaves at most the user's own words (when their transcript was in by then), never a reply.
    expect((await client.history(session.sessionId)).filter((m) => m.role === 'assistant')).toEqual([]);
  });
});

describe('the audio → llm → tts route when transcription fails', () => {
  it('a transcript that never comes does not fail an answered turn: the user message stands in as [audio]', async () => {
    // The side STT job hears no words (a non-retryable no_speech); the LLM answered the audio anyway.
    pipeline = await startPipeline({ env: SPEECH_NATIVE, llm: { acceptsAudio: true }, stt: { transcripts: ['   '] } });
    const { client, stores } = pipeline;
    const session = await client.createSession('user-sn-untranscribed');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    const result = await handle.result();
    expect(result.replyText).toContain('um áudio de');
    expect(result.replyAudio.durationMs).toBeGreaterThan(0);
    const turn = await stores.turns.get(handle.turnId);
    expect(turn?.status).toBe('completed');
    expect(turn?.stages.stt?.output).toMatchObject({ text: '[audio]', provider: 'none', model: 'untranscribed: no_speech' });
    const messages = await client.history(session.sessionId);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', '[audio]'],
      ['assistant', result.replyText],
    ]);
  });

  it('a failed side transcription by the LLM keeps its reply; an STT job transcribes instead', async () => {
    pipeline = await startPipeline({
      env: { ...SPEECH_NATIVE, VOXQ_SPEECH_LLM_TRANSCRIBES: 'true' },
      llm: {
        acceptsAudio: true,
        transcript: () => {
          throw new ProviderError('fake: transcription is down', { kind: 'server', provider: 'fake' });
        },
      },
      stt: { transcripts: [SAID] },
    });
    const { client } = pipeline;
    const session = await client.createSession('user-sn-side-fails');
    const handle = await client.enqueueTurn({ sessionId: session.sessionId, audio: await speakPtBr(SAID) });
    const result = await handle.result();
    expect(result.transcription).toBe(SAID);
    // One reply: the transcription's failure did not send the LLM stage round again.
    expect(result.timing.llm?.attempts).toBe(1);
  });
});
