// The folder holding voxq's package.json, from src/ (tsx) or dist/ (built) alike.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('voxq: cannot find the package root');
    dir = parent;
  }
  return dir;
}

export const SAMPLE_AUDIO_PATH = (): string => join(packageRoot(), 'assets', 'sample-pt-br.wav');
