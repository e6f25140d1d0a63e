// A Kokoro synthesis thread: loads the model once, then runs one inference at a time.
// onnxruntime-node's run() computes on the thread that calls it, so inference lives here and the
// worker's event loop (BullMQ lock renewal, other jobs, health) keeps turning meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import type { KokoroTTS } from 'kokoro-js';
import { loadKokoro } from './kokoro-model.js';
import { runKokoro } from './kokoro-run.js';
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

// Requests arrive one at a time (the pool sends a thread its next request after the last answer).
port.on('message', (message: ToThread) => {
  const model = tts;
  if (!model) {
    send({ type: 'failed', requestId: message.requestId, message: 'the Kokoro model is not loaded' });
    return;
  }
  runKokoro(model, message.request).then(
    (samples) => {
      const copy = samples.slice(); // own buffer, so it can be transferred without copying again
      send({ type: 'audio', requestId: message.requestId, samples: copy }, [copy.buffer]);
    },
    (error: unknown) => send({ type: 'failed', requestId: message.requestId, message: error instanceof Error ? error.message : String(error) }),
  );
});
