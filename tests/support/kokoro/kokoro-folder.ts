// A Kokoro model folder laid out like the hub's ONNX export: config.json, tokenizer.json,
// tokenizer_config.json and onnx/model*.onnx (one file per dtype), with Kokoro's real phoneme
// vocabulary and the fake graph in place of the weights. kokoro-js loads it through its real
// code path (transformers.js from_pretrained), locally or from tests/support/kokoro/hub-server.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KOKORO_DTYPES, modelFileFor } from '../../../src/shared/providers/kokoro/kokoro-model.js';
import { KOKORO_VOCAB } from '../../../src/shared/providers/kokoro/kokoro-vocab.js';
import { encodeFakeKokoro, type FakeKokoroGraphOptions } from './fake-kokoro-graph.js';

export interface KokoroFolder {
  dir: string;
  /** Bytes of each file, by path inside the folder. */
  files: Map<string, Uint8Array>;
  remove(): Promise<void>;
}

/** Kokoro's tokenizer.json: one token per character, unknown characters stripped, `$` (id 0) framing. */
export function kokoroTokenizerJson(vocab: Readonly<Record<string, number>>): unknown {
  const symbols = Object.keys(vocab)
    .filter((s) => s !== '$')
    .map((s) => s.replace(/[\\\]^-]/g, (c) => `\\${c}`))
    .join('');
  const dollar = { SpecialToken: { id: '$', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '$', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Replace', pattern: { Regex: `[^$${symbols}]` }, content: '' },
    pre_tokenizer: { type: 'Split', pattern: { Regex: '' }, behavior: 'Isolated', invert: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [dollar, { Sequence: { id: 'A', type_id: 0 } }, dollar],
      pair: [dollar, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, dollar],
      special_tokens: { $: { id: '$', ids: [0], tokens: ['$'] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: { $: 0, ...vocab }, unk_token: '$' },
  };
}

export async function makeKokoroFolder(graph: FakeKokoroGraphOptions, parent: string = tmpdir()): Promise<KokoroFolder> {
  const dir = await mkdtemp(join(parent, 'voxq-kokoro-'));
  const model = encodeFakeKokoro(graph);
  const text = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  const files = new Map<string, Uint8Array>([
    ['config.json', text({ model_type: 'style_text_to_speech_2' })],
    ['tokenizer.json', text(kokoroTokenizerJson(Object.fromEntries(KOKORO_VOCAB)))],
    ['tokenizer_config.json', text({ model_max_length: 512, pad_token: '$', tokenizer_class: 'PreTrainedTokenizer', unk_token: '$' })],
    ...KOKORO_DTYPES.map((dtype) => [modelFileFor(dtype), model] as [string, Uint8Array]),
  ]);
  await mkdir(join(dir, 'onnx'));
  for (const [path, bytes] of files) await writeFile(join(dir, path), bytes);
  return { dir, files, remove: () => rm(dir, { recursive: true, force: true }) };
}
