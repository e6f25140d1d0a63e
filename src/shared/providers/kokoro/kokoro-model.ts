// Loading Kokoro-82M through kokoro-js's own code path (transformers.js from_pretrained): from the
// model hub by default, downloading once into a cache folder with progress reported, or from a
// local folder with remote loading off. `from_pretrained` takes no GPU index: a GPU worker is
// pinned to its card by CUDA_VISIBLE_DEVICES, set when the worker process is spawned.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { env as transformersEnvType } from '@huggingface/transformers';
import type { KokoroTTS } from 'kokoro-js';

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

/** What a Kokoro folder holds besides the model file (the hub's ONNX export layout). */
const FOLDER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** The files of `folder` a load of `dtype` needs that are not there. */
export function missingKokoroFiles(folder: string, dtype: KokoroDtype): string[] {
  return [...FOLDER_FILES, modelFileFor(dtype)].filter((file) => !existsSync(join(folder, file)));
}

/** True when loading would need no download: a local folder with every file, or a complete cached copy. */
export function kokoroModelPresent(options: Pick<KokoroModelOptions, 'model' | 'modelDir' | 'cacheDir' | 'dtype'>): boolean {
  const folder = options.modelDir ? resolve(options.modelDir) : join(options.cacheDir, options.model);
  return missingKokoroFiles(folder, options.dtype).length === 0;
}

type TransformersEnv = typeof transformersEnvType;
/** transformers.js's own hub, read before any load changes it. */
let defaultRemoteHost: string | undefined;

/**
 * transformers.js keeps these settings on one module-wide object: every load sets all of them,
 * and loads in one thread run one at a time (see `loadKokoro`). A local folder is loaded by its
 * absolute path (read as a path, not a hub id, so any folder name works), with no cache copy.
 */
function configureHub(transformersEnv: TransformersEnv, options: KokoroModelOptions): string {
  defaultRemoteHost ??= transformersEnv.remoteHost;
  transformersEnv.cacheDir = options.cacheDir;
  transformersEnv.remoteHost = options.hubUrl ? (options.hubUrl.endsWith('/') ? options.hubUrl : `${options.hubUrl}/`) : defaultRemoteHost;
  if (options.modelDir) {
    transformersEnv.allowRemoteModels = false;
    transformersEnv.allowLocalModels = true;
    transformersEnv.useFSCache = false;
    return resolve(options.modelDir);
  }
  transformersEnv.allowRemoteModels = true;
  // The cache is where downloads land; reading local folders by model id would look in ./models.
  transformersEnv.allowLocalModels = false;
  transformersEnv.useFSCache = true;
  return options.model;
}

/** Loads in this thread, one after another: each sets transformers.js's global settings for itself. */
let loadsInThisThread: Promise<unknown> = Promise.resolve();

/**
 * KokoroTTS.from_pretrained's own two steps (the model and the tokenizer through transformers.js,
 * then `new KokoroTTS`), with onnxruntime session options it does not pass on: the intra-op
 * thread count, so inference leaves a core to the worker's event loop.
 */
export function loadKokoro(options: KokoroModelOptions, onProgress?: (progress: LoadProgress) => void): Promise<KokoroTTS> {
  const load = loadsInThisThread.then(() => loadNow(options, onProgress));
  loadsInThisThread = load.catch(() => undefined);
  return load;
}

async function loadNow(options: KokoroModelOptions, onProgress?: (progress: LoadProgress) => void): Promise<KokoroTTS> {
  // Imported here, not at the top: transformers.js, onnxruntime-node and kokoro-js's phonemizer cost
  // every process that merely can choose a TTS ~300 ms and ~64 MB, and the phonemizer installs
  // process-wide error handlers. Only a process that loads Kokoro pays for them.
  const { AutoTokenizer, StyleTextToSpeech2Model, env } = await import('@huggingface/transformers');
  const { KokoroTTS } = await import('kokoro-js');
  const id = configureHub(env, options);
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
