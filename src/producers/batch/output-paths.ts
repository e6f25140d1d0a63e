// Where a transcript goes: the file's whole path relative to the input folder, mirrored under
// --out, with the format's extension added (`a/talk.ogg` → `a/talk.ogg.srt`). Keeping the input's
// own extension gives every input its own outputs (`talk.ogg`, `talk.opus` and `talk.wav` never
// share a name) by a rule that does not depend on which other files exist, so it holds across
// runs. Whatever the name, the result stays inside --out (checked, not assumed), and files are
// written whole (temp file, then rename) so a kill leaves none half done.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VoxqError } from '../../shared/errors.js';
import { isInside } from './discover.js';

export function outputPath(outRoot: string, relPath: string, extension: string): string {
  const root = resolve(outRoot);
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new VoxqError('output_escapes', `output path for ${relPath} would leave the output folder`);
  const target = resolve(root, `${join(...parts)}.${extension}`);
  if (!isInside(root, target)) throw new VoxqError('output_escapes', `output path for ${relPath} would leave the output folder`);
  return target;
}

/** voxq's temp files: `<name>.voxq-<pid>.tmp`, a name no user file is likely to have. */
export const TEMP_NAME = /\.voxq-(\d+)\.tmp$/;

export async function writeWhole(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.voxq-${process.pid}.tmp`;
  try {
    await writeFile(temp, content, 'utf8');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes voxq's temp files of runs that died mid-write (their process is gone); returns how many.
 * Folders it cannot read are passed over (discovery reports them when they are input).
 */
export async function removeStaleTemps(outRoot: string): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(path);
        continue;
      }
      const pid = TEMP_NAME.exec(e.name)?.[1];
      if (e.isFile() && pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
  };
  await walk(resolve(outRoot));
  return removed;
}
