// Just enough of ONNX's protobuf (onnx.proto3: ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, AttributeProto) to write a small model without Python: field numbers are
// ONNX's own, encoded by hand (varints, length-delimited fields, packed repeated numbers).

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
type ElemType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
const AttrType = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 } as const;

class Writer {
  private readonly parts: Uint8Array[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.parts.push(Uint8Array.from(bytes));
    return this;
  }

  private key(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.key(field, 5);
    this.parts.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2).varint(value.byteLength);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + p.byteLength, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }
}

export interface Tensor {
  name?: string;
  dims: readonly number[];
  type: ElemType;
  /** float32 values for FLOAT, integers for INT64. */
  values: ArrayLike<number>;
}

export type Attribute =
  | { name: string; float: number }
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; tensor: Tensor };

export interface Node {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly Attribute[];
}

/** A graph input or output: a dim is a fixed size or a symbolic name. */
export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: readonly (number | string)[];
}

export interface Graph {
  name: string;
  nodes: readonly Node[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  initializers: readonly (Tensor & { name: string })[];
}

function writeTensor(w: Writer, tensor: Tensor): void {
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.type);
  if (tensor.name) w.string(8, tensor.name);
  const raw =
    tensor.type === DataType.FLOAT
      ? new Uint8Array(Float32Array.from(tensor.values).buffer)
      : new Uint8Array(BigInt64Array.from(Array.from(tensor.values, (v) => BigInt(v))).buffer);
  w.bytes(9, raw); // raw_data, little-endian
}

function writeAttribute(w: Writer, attribute: Attribute): void {
  w.string(1, attribute.name);
  if ('float' in attribute) w.float(2, attribute.float).int(20, AttrType.FLOAT);
  else if ('int' in attribute) w.int(3, attribute.int).int(20, AttrType.INT);
  else if ('ints' in attribute) w.packedInts(8, attribute.ints).int(20, AttrType.INTS);
  else w.message(5, (t) => writeTensor(t, attribute.tensor)).int(20, AttrType.TENSOR);
}

function writeValueInfo(w: Writer, info: ValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, info.type);
      tensorType.message(2, (shape) => {
        for (const d of info.dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

/** Serialises a model (IR version 8, default-domain opset `opset`). */
export function encodeModel(graph: Graph, { opset = 17, producer = 'voxq-test' } = {}): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, producer);
  w.message(7, (g) => {
    graph.nodes.forEach((node, i) => {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `${node.op}_${i}`);
        n.string(4, node.op);
        for (const a of node.attributes ?? []) n.message(5, (attr) => writeAttribute(attr, a));
      });
    });
    g.string(2, graph.name);
    for (const init of graph.initializers) g.message(5, (t) => writeTensor(t, init));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  w.message(8, (o) => o.string(1, '').int(2, opset));
  return w.finish();
}
