// A stand-in for Kokoro-82M's ONNX graph with Kokoro's exact inputs and output:
// input_ids int64 [1, T], style float32 [1, 256], speed float32 [1] → waveform float32 [N].
// N = floor(T × samplesPerToken ÷ speed), so longer text and slower speech give longer audio. The
// samples are a tone whose pitch follows the token ids and whose loudness depends on the style
// vector through a chain of `layers` 256-wide MatMul+Tanh steps: real computation whose cost
// (the "cost setting") makes one run() take as long as a test needs.
import { DataType, encodeModel, type Graph, type Node } from './onnx-writer.js';

export interface FakeKokoroGraphOptions {
  /** MatMul+Tanh steps of [rows × 256] · [256 × 256]; the cost setting. */
  layers: number;
  /** Rows of the activation matrix (default 256): more rows, more work per layer. */
  rows?: number;
  /** Output samples per input token at speed 1 (default 1,200 = 50 ms at 24 kHz). */
  samplesPerToken?: number;
}

const STYLE = 256;

function scalar(name: string, value: number, type: (typeof DataType)[keyof typeof DataType] = DataType.FLOAT) {
  return { name, dims: [], type, values: [value] };
}

/** Deterministic weights in (-1/16, 1/16): keeps Tanh out of saturation. */
function weights(): Float32Array {
  const w = new Float32Array(STYLE * STYLE);
  let seed = 12345;
  for (let i = 0; i < w.length; i += 1) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    w[i] = (seed / 2 ** 31 - 0.5) / 8;
  }
  return w;
}

export function fakeKokoroGraph({ layers, rows = 256, samplesPerToken = 1200 }: FakeKokoroGraphOptions): Graph {
  const nodes: Node[] = [
    // cost: style broadcast to [rows, 256], then `layers` dense steps
    { op: 'Expand', inputs: ['style', 'rows_shape'], outputs: ['x0'] },
  ];
  let x = 'x0';
  for (let i = 1; i <= layers; i += 1) {
    nodes.push({ op: 'MatMul', inputs: [x, 'w'], outputs: [`mm${i}`] }, { op: 'Tanh', inputs: [`mm${i}`], outputs: [`x${i}`] });
    x = `x${i}`;
  }
  nodes.push(
    { op: 'ReduceMean', inputs: [x], outputs: ['activation'], attributes: [{ name: 'keepdims', int: 0 }] },
    { op: 'Mul', inputs: ['activation', 'style_gain'], outputs: ['style_part'] },
    { op: 'Add', inputs: ['style_part', 'base_gain'], outputs: ['gain'] },
    // length: T tokens → N samples
    { op: 'Shape', inputs: ['input_ids'], outputs: ['ids_shape'] },
    { op: 'Gather', inputs: ['ids_shape', 'one_i64'], outputs: ['tokens'], attributes: [{ name: 'axis', int: 0 }] },
    { op: 'Cast', inputs: ['tokens'], outputs: ['tokens_f'], attributes: [{ name: 'to', int: DataType.FLOAT }] },
    { op: 'ReduceMax', inputs: ['speed'], outputs: ['speed_s'], attributes: [{ name: 'keepdims', int: 0 }] },
    { op: 'Mul', inputs: ['tokens_f', 'samples_per_token'], outputs: ['samples_at_1'] },
    { op: 'Div', inputs: ['samples_at_1', 'speed_s'], outputs: ['samples_f'] },
    { op: 'Floor', inputs: ['samples_f'], outputs: ['samples'] },
    { op: 'Range', inputs: ['zero', 'samples', 'one'], outputs: ['t'] },
    // pitch from the ids
    { op: 'Cast', inputs: ['input_ids'], outputs: ['ids_f'], attributes: [{ name: 'to', int: DataType.FLOAT }] },
    { op: 'ReduceMean', inputs: ['ids_f'], outputs: ['mean_id'], attributes: [{ name: 'keepdims', int: 0 }] },
    { op: 'Add', inputs: ['mean_id', 'base_hz'], outputs: ['hz'] },
    { op: 'Mul', inputs: ['hz', 'two_pi_over_rate'], outputs: ['omega'] },
    { op: 'Mul', inputs: ['t', 'omega'], outputs: ['phase'] },
    { op: 'Sin', inputs: ['phase'], outputs: ['tone'] },
    { op: 'Mul', inputs: ['tone', 'gain'], outputs: ['waveform'] },
  );
  return {
    name: 'fake_kokoro',
    nodes,
    inputs: [
      { name: 'input_ids', type: DataType.INT64, dims: [1, 'sequence_length'] },
      { name: 'style', type: DataType.FLOAT, dims: [1, STYLE] },
      { name: 'speed', type: DataType.FLOAT, dims: [1] },
    ],
    outputs: [{ name: 'waveform', type: DataType.FLOAT, dims: ['num_samples'] }],
    initializers: [
      { name: 'rows_shape', dims: [2], type: DataType.INT64, values: [rows, STYLE] },
      { name: 'w', dims: [STYLE, STYLE], type: DataType.FLOAT, values: weights() },
      scalar('style_gain', 0.01),
      scalar('base_gain', 0.3),
      scalar('one_i64', 1, DataType.INT64),
      scalar('samples_per_token', samplesPerToken),
      scalar('zero', 0),
      scalar('one', 1),
      scalar('base_hz', 120),
      scalar('two_pi_over_rate', (2 * Math.PI) / 24_000),
    ],
  };
}

export function encodeFakeKokoro(options: FakeKokoroGraphOptions): Uint8Array {
  return encodeModel(fakeKokoroGraph(options));
}
