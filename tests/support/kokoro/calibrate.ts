// How many layers the fake Kokoro graph needs for one run() to take a chosen time on this machine:
// time a small graph, scale. Machines differ tenfold; a fixed layer count would not mean "200 ms".
import * as ort from 'onnxruntime-node';
import { encodeFakeKokoro } from './fake-kokoro-graph.js';

const PROBE_LAYERS = 8;

function feeds(tokens: number): Record<string, ort.Tensor> {
  return {
    input_ids: new ort.Tensor('int64', new BigInt64Array(tokens).fill(50n), [1, tokens]),
    style: new ort.Tensor('float32', new Float32Array(256).fill(0.1), [1, 256]),
    speed: new ort.Tensor('float32', Float32Array.from([1]), [1]),
  };
}

/** Median time of one run() of an n-layer graph, in ms. */
export async function timeRunMs(layers: number, runs = 5): Promise<number> {
  const session = await ort.InferenceSession.create(encodeFakeKokoro({ layers }));
  try {
    await session.run(feeds(32));
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      await session.run(feeds(32));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? 0;
  } finally {
    await session.release();
  }
}

/** Layers for one run() of about `targetMs` (at least 1). */
export async function layersForRunMs(targetMs: number): Promise<number> {
  const [probe, base] = [await timeRunMs(PROBE_LAYERS), await timeRunMs(1)];
  const perLayerMs = Math.max(0.05, (probe - base) / (PROBE_LAYERS - 1));
  return Math.max(1, Math.round(targetMs / perLayerMs));
}
