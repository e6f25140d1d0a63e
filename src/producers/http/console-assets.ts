// The voice console's static files, all served by voxq itself from the package: its own ES
// modules and stylesheet (assets/console/), and the browser VAD — @ricky0123/vad-web's bundle,
// AudioWorklet and Silero models, and the onnxruntime-web build it was made for (its script and
// WebAssembly). The page points the VAD at these paths, so its default CDN addresses are never
// used. Only files named here are served; each is read once and kept in memory.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../shared/package-root.js';

export type ConsoleAssetGroup = 'assets' | 'vad' | 'ort';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

const OWN_FILES = [
  'main.js',
  'i18n.js',
  'api.js',
  'recorder.js',
  'capture-worklet.js',
  'wav.js',
  'player.js',
  'turn-view.js',
  'hands-free.js',
  'echo-guard.js',
  'echo-meter-worklet.js',
  'console.css',
] as const;

const VAD_FILES = ['bundle.min.js', 'vad.worklet.bundle.min.js', 'silero_vad_legacy.onnx', 'silero_vad_v5.onnx'] as const;

/** onnxruntime-web's WebAssembly build: the script the VAD bundle expects as `ort`, and the files it loads from onnxWASMBasePath. */
const ORT_FILES = ['ort.wasm.min.js', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'] as const;

export interface ConsoleAsset {
  contentType: string;
  bytes: Buffer;
}

export class ConsoleAssets {
  private readonly folders: Record<ConsoleAssetGroup, string | undefined>;
  private readonly allowed: Record<ConsoleAssetGroup, ReadonlySet<string>> = {
    assets: new Set(OWN_FILES),
    vad: new Set(VAD_FILES),
    ort: new Set(ORT_FILES),
  };
  private readonly cache = new Map<string, Promise<ConsoleAsset>>();

  constructor() {
    const vad = packageDir('@ricky0123/vad-web', packageRoot());
    // vad-web's own onnxruntime-web (nested when another package pins a different one).
    const ort = vad ? packageDir('onnxruntime-web', vad) : undefined;
    this.folders = {
      assets: join(packageRoot(), 'assets', 'console'),
      vad: vad ? join(vad, 'dist') : undefined,
      ort: ort ? join(ort, 'dist') : undefined,
    };
  }

  /** True when the browser VAD's files are installed (hands-free mode needs them). */
  get hasVad(): boolean {
    return this.folders.vad !== undefined && this.folders.ort !== undefined;
  }

  /** The file, or undefined when it is not one the console serves. */
  async get(group: ConsoleAssetGroup, name: string): Promise<ConsoleAsset | undefined> {
    const folder = this.folders[group];
    if (folder === undefined || !this.allowed[group].has(name)) return undefined;
    const path = join(folder, name);
    let asset = this.cache.get(path);
    if (!asset) {
      asset = readFile(path).then((bytes) => ({ contentType: CONTENT_TYPES[extension(name)] ?? 'application/octet-stream', bytes }));
      this.cache.set(path, asset);
      asset.catch(() => this.cache.delete(path));
    }
    return asset;
  }
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot);
}

/** A package's folder as Node resolves it from `from` (its nearest node_modules first), or undefined when absent. */
function packageDir(name: string, from: string): string | undefined {
  const require = createRequire(join(from, 'package.json'));
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = join(dir, name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}
