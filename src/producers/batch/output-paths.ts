// Where a transcript goes: the file's path relative to the input folder, mirrored under --out,
// with the format's extension. Whatever the name, the result stays inside --out (checked, not
// assumed), and files are written whole (temp file, then rename) so a kill leaves none half done.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { VoxqError } from '../../shared/errors.js';
import { isInside } from './discover.js';

export function outputPath(outRoot: string, relPath: string, extension: string): string {
  const root = resolve(outRoot);
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new VoxqError('output_escapes', `output path for ${relPath} would leave the output folder`);
  const rel = join(...parts);
  const ext = extname(rel);
  const target = resolve(root, `${ext ? rel.slice(0, -ext.length) : rel}.${extension}`);
  if (!isInside(root, target)) throw new VoxqError('output_escapes', `output path for ${relPath} would leave the output folder`);
  return target;
}

export async function writeWhole(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, content, 'utf8');
  await rename(temp, path);
}
