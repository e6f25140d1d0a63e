// Walks a folder tree for candidate files: recursive, any names (spaces, non-ASCII), symbolic
// links followed only when they resolve to a file inside the tree (never a folder: no cycles,
// no escape). What is not a candidate is listed as skipped with its reason. Whether a candidate
// is audio is for ffprobe to say (probe-file.ts), not its extension.
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface FoundFile {
  /** Absolute path to read. */
  path: string;
  /** Path relative to the root with '/' separators: what outputs mirror. */
  relPath: string;
  sizeBytes: number;
}

export interface SkippedFile {
  relPath: string;
  reason: string;
}

export interface Discovery {
  root: string;
  files: FoundFile[];
  skipped: SkippedFile[];
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

export async function discover(rootPath: string): Promise<Discovery> {
  const root = await realpath(rootPath);
  const rootStat = await stat(root);
  if (!rootStat.isDirectory()) throw new Error(`${rootPath} is not a folder`);
  const files: FoundFile[] = [];
  const skipped: SkippedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries: string[] = [];
    for await (const entry of await opendir(dir)) entries.push(entry.name);
    entries.sort();
    for (const name of entries) {
      const path = join(dir, name);
      const relPath = relative(root, path).split(sep).join('/');
      const info = await lstat(path);
      if (info.isDirectory()) {
        await walk(path);
      } else if (info.isFile()) {
        files.push({ path, relPath, sizeBytes: info.size });
      } else if (info.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(path);
        } catch {
          skipped.push({ relPath, reason: 'broken symbolic link' });
          continue;
        }
        if (!isInside(root, target)) {
          skipped.push({ relPath, reason: 'symbolic link to outside the folder (not followed)' });
          continue;
        }
        const targetInfo = await stat(target);
        if (targetInfo.isFile()) files.push({ path: target, relPath, sizeBytes: targetInfo.size });
        else skipped.push({ relPath, reason: 'symbolic link to a folder (not followed)' });
      } else {
        skipped.push({ relPath, reason: 'not a regular file' });
      }
    }
  };
  await walk(root);
  return { root, files, skipped };
}
