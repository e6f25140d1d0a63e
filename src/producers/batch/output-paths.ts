// Where a transcript goes: the file's path relative to the input folder, mirrored under --out,
// with the format's extension. Whatever the name, the result stays inside --out (checked, not
// assumed), and files are written whole (temp file, then rename) so a kill leaves none half done.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
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

const TEMP_NAME = /\.(\d+)\.tmp$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp files of runs that died mid-write (their process is gone); returns how many. */
export async function removeStaleTemps(outRoot: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(resolve(outRoot), { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const stale = entries.filter((e) => {
    const pid = TEMP_NAME.exec(e.name)?.[1];
    return e.isFile() && pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid));
  });
  await Promise.all(stale.map((e) => rm(join(e.parentPath, e.name), { force: true })));
  return stale.length;
}
