// A Kokoro synthesis thread: loads the model once, then runs one utterance at a time: every
// piece's inference, the joining and the WAV encoding. onnxruntime-node's run() computes on the
// thread that calls it, so all of that lives here and the worker's event loop (BullMQ lock
// renewal, other jobs, cancel messages) only passes one request in and one buffer out.
import { parentPort, workerData } from 'node:worker_threads';
import type { KokoroTTS } from 'kokoro-js';
import { loadKokoro } from './kokoro-model.js';
import { runKokoro, type KokoroSpeech } from './kokoro-run.js';
import type { FromThread, SynthesisThreadData, ToThread } from './synthesis-messages.js';

const port = parentPort;
if (!port) throw new Error('synthesis-thread.ts runs as a worker thread');
const data = workerData as SynthesisThreadData;
const send = (message: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

let tts: KokoroTTS | undefined;
try {
  tts = await loadKokoro(data.model, data.reportProgress ? (progress) => send({ type: 'progress', progress }) : undefined);
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'load_failed', message: error instanceof Error ? error.message : String(error) });
}

/** The request on this thread, and whether the main thread cancelled it (checked between pieces). */
let running: { requestId: number; cancelled: boolean } | undefined;

function bufferOf(speech: KokoroSpeech): ArrayBuffer {
  return (speech.output === 'wav' ? speech.bytes : speech.samples).buffer as ArrayBuffer;
}

// Requests arrive one at a time (the pool sends a thread its next request after the last answer);
// a cancel may arrive while one runs.
port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    if (running?.requestId === message.requestId) running.cancelled = true;
    return;
  }
  const { requestId } = message;
  const model = tts;
  if (!model) {
    send({ type: 'failed', requestId, message: 'the Kokoro model is not loaded' });
    return;
  }
  const run = { requestId, cancelled: false };
  running = run;
  runKokoro(model, message.request, () => run.cancelled).then(
    (speech) => {
      running = undefined;
      send({ type: 'audio', requestId, speech }, [bufferOf(speech)]);
    },
    (error: unknown) => {
      running = undefined;
      send({ type: 'failed', requestId, message: error instanceof Error ? error.message : String(error) });
    },
  );
});
