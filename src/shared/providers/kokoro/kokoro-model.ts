// Loading Kokoro-82M through kokoro-js's own code path (transformers.js from_pretrained): from the
// model hub by default, downloading once into a cache folder with progress reported, or from a
// local folder with remote loading off. `from_pretrained` takes no GPU index: a GPU worker is
// pinned to its card by CUDA_VISIBLE_DEVICES, set when the worker process is spawned.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AutoTokenizer, StyleTextToSpeech2Model, env as transformersEnv } from '@huggingface/transformers';
import { KokoroTTS } from 'kokoro-js';

export const KOKORO_DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;
export type KokoroDtype = (typeof KOKORO_DTYPES)[number];
export const KOKORO_DEVICES = ['cpu', 'cuda'] as const;
export type KokoroDevice = (typeof KOKORO_DEVICES)[number];
export const KOKORO_SAMPLE_RATE_HZ = 24_000;

/** The ONNX export kokoro-js loads by default. */
export const DEFAULT_KOKORO_MODEL = 'onnx-community/Kokoro-82M-v1.0-ONNX';

export interface KokoroModelOptions {
  /** Hub model id (default DEFAULT_KOKORO_MODEL); ignored when `modelDir` is set. */
  model: string;
  /** A local Kokoro folder (config.json, tokenizer.json, onnx/…): remote loading off. */
  modelDir?: string;
  /** Where hub downloads are kept between runs. */
  cacheDir: string;
  /** Hub base URL; unset = transformers.js's default hub. */
  hubUrl?: string;
  dtype: KokoroDtype;
  device: KokoroDevice;
  /** onnxruntime intra-op threads per synthesis thread (unset: onnxruntime's default, every core). */
  intraOpThreads?: number;
}

/** What a download reports, as transformers.js gives it (status initiate/download/progress/done/ready). */
export interface LoadProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;
}

/** The model file transformers.js fetches for a dtype. */
export function modelFileFor(dtype: KokoroDtype): string {
  const suffix: Record<KokoroDtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };
  return `onnx/model${suffix[dtype]}.onnx`;
}

/** True when loading would need no download: a local folder with the dtype's file, or a cached copy. */
export function kokoroModelPresent(options: Pick<KokoroModelOptions, 'model' | 'modelDir' | 'cacheDir' | 'dtype'>): boolean {
  const folder = options.modelDir ? resolve(options.modelDir) : join(options.cacheDir, options.model);
  return existsSync(join(folder, 'config.json')) && existsSync(join(folder, modelFileFor(options.dtype)));
}

/**
 * transformers.js keeps these settings on one module-wide object: set them for this load. A
 * process (or thread) loads one Kokoro configuration, so there is nothing to restore.
 */
function configureHub(options: KokoroModelOptions): string {
  transformersEnv.cacheDir = options.cacheDir;
  transformersEnv.useFSCache = true;
  if (options.modelDir) {
    const folder = resolve(options.modelDir);
    transformersEnv.allowRemoteModels = false;
    transformersEnv.allowLocalModels = true;
    transformersEnv.localModelPath = `${dirname(folder)}/`;
    return basename(folder);
  }
  transformersEnv.allowRemoteModels = true;
  // The cache is where downloads land; reading local folders by model id would look in ./models.
  transformersEnv.allowLocalModels = false;
  if (options.hubUrl) transformersEnv.remoteHost = options.hubUrl.endsWith('/') ? options.hubUrl : `${options.hubUrl}/`;
  return options.model;
}

/**
 * KokoroTTS.from_pretrained's own two steps (the model and the tokenizer through transformers.js,
 * then `new KokoroTTS`), with onnxruntime session options it does not pass on: the intra-op
 * thread count, so inference leaves a core to the worker's event loop.
 */
export async function loadKokoro(options: KokoroModelOptions, onProgress?: (progress: LoadProgress) => void): Promise<KokoroTTS> {
  const id = configureHub(options);
  const progress_callback = onProgress ? (info: LoadProgress) => onProgress(info) : undefined;
  const [model, tokenizer] = await Promise.all([
    StyleTextToSpeech2Model.from_pretrained(id, {
      dtype: options.dtype,
      // transformers.js accepts 'cuda' under Node on linux x64 (onnxruntime-node's CUDA provider).
      device: options.device,
      ...(progress_callback ? { progress_callback } : {}),
      ...(options.intraOpThreads ? { session_options: { intraOpNumThreads: options.intraOpThreads } } : {}),
    }),
    AutoTokenizer.from_pretrained(id, progress_callback ? { progress_callback } : {}),
  ]);
  return new KokoroTTS(model, tokenizer);
}
