// The Kokoro front-end process: runs espeak-ng (G2P) and ffmpeg (Ogg Opus, MP3) for a worker.
// Starting a program forks the process that starts it, and a fork costs in proportion to that
// process's memory: a worker holding Kokoro (and onnxruntime's arenas) stalls 15–40 ms on every
// spawn, on whichever thread spawns, as its other threads wait for the address space. Forked
// from this small process instead, the worker's event loop only sees two IPC messages.
import { encodeSpeech } from '../../audio/encode-speech.js';
import { ProviderError, type ProviderErrorKind } from '../provider-error.js';
import { EspeakG2P } from './espeak-g2p.js';
import type { FromFrontEnd, ToFrontEnd } from './front-end-messages.js';

const send = process.send?.bind(process);
if (!send) throw new Error('front-end-process.ts runs as a child process with an IPC channel');
const reply = (message: FromFrontEnd): void => {
  // The worker closed the channel: nobody waits for the answer any more.
  if (process.connected) send(message);
};

/** One G2P per espeak-ng binary and voice. */
const g2ps = new Map<string, EspeakG2P>();
/** Requests in progress, to kill their program on cancel. */
const running = new Map<number, AbortController>();

function g2pFor(espeakVoice: string, binary: string | undefined): EspeakG2P {
  const key = `${binary ?? ''}\0${espeakVoice}`;
  let g2p = g2ps.get(key);
  if (!g2p) {
    g2p = new EspeakG2P({ language: espeakVoice, ...(binary ? { binary } : {}) });
    g2ps.set(key, g2p);
  }
  return g2p;
}

async function answer(message: Exclude<ToFrontEnd, { type: 'cancel' }>, signal: AbortSignal): Promise<FromFrontEnd> {
  const { requestId } = message;
  if (message.type === 'phonemize') {
    const phonemes = await g2pFor(message.espeakVoice, message.espeakBinary).phonemize(message.text, signal);
    return { type: 'phonemes', requestId, phonemes };
  }
  const bytes = await encodeSpeech(message.samples, message.sampleRateHz, message.format, { ...(message.ffmpeg ? { ffmpeg: message.ffmpeg } : {}), signal });
  return { type: 'encoded', requestId, bytes };
}

function failure(requestId: number, error: unknown, signal: AbortSignal): FromFrontEnd {
  const kind: ProviderErrorKind = error instanceof ProviderError ? error.kind : signal.aborted ? 'aborted' : 'server';
  return { type: 'failed', requestId, kind, message: error instanceof Error ? error.message : String(error) };
}

process.on('message', (message: ToFrontEnd) => {
  if (message.type === 'cancel') {
    running.get(message.requestId)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(message.requestId, controller);
  answer(message, controller.signal)
    .catch((error: unknown) => failure(message.requestId, error, controller.signal))
    .then(reply)
    .finally(() => running.delete(message.requestId))
    .catch(() => undefined); // the channel closed between the check and the send: same as above
});

// The worker closed the channel (close(), or it died): stop whatever still runs, then exit.
process.on('disconnect', () => {
  for (const controller of running.values()) controller.abort();
  process.exitCode = 0;
  setImmediate(() => process.exit());
});
