// Walks a folder tree for candidate files: recursive, any names (spaces, non-ASCII), symbolic
// links followed only when they resolve to a file inside the tree (never a folder: no cycles,
// no escape). What is not a candidate is listed as skipped with its reason; a folder or file that
// cannot be read is listed as failed with its reason (EACCES in words), and the walk goes on.
// Paths the caller leaves out (voxq's own output folder and outputs) are neither found nor
// listed. Whether a candidate is audio is for ffprobe to say (probe-file.ts), not its extension.
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fsReason } from './fs-reasons.js';

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

/** A file, or a folder (relPath ending in '/'), that could not be read. */
export interface FailedPath {
  relPath: string;
  reason: string;
}

export interface Discovery {
  root: string;
  files: FoundFile[];
  skipped: SkippedFile[];
  failed: FailedPath[];
}

/** The filesystem calls discovery makes: a seam for tests (root reads everything). */
export interface DiscoverFs {
  opendir(path: string): Promise<AsyncIterable<{ name: string }>>;
  lstat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean; size: number }>;
  stat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean; size: number }>;
  realpath(path: string): Promise<string>;
  /** Rejects when the file cannot be read (access(path, R_OK)). */
  checkReadable(path: string): Promise<void>;
}

export const nodeDiscoverFs: DiscoverFs = {
  opendir: (path) => fsp.opendir(path),
  lstat: (path) => fsp.lstat(path),
  stat: (path) => fsp.stat(path),
  realpath: (path) => fsp.realpath(path),
  checkReadable: (path) => fsp.access(path, constants.R_OK),
};

export interface DiscoverOptions {
  /** True for an absolute path (file or folder) the walk must leave out silently. */
  leaveOut?: (path: string) => boolean;
  /** Aborted: the walk stops where it is and returns what it found so far. */
  signal?: AbortSignal;
  fs?: Partial<DiscoverFs>;
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

/** `root` must be a readable folder (check-folders.ts says so before). */
export async function discover(rootPath: string, options: DiscoverOptions = {}): Promise<Discovery> {
  const fs: DiscoverFs = { ...nodeDiscoverFs, ...options.fs };
  const leaveOut = options.leaveOut ?? (() => false);
  const root = await fs.realpath(rootPath);
  const files: FoundFile[] = [];
  const skipped: SkippedFile[] = [];
  const failed: FailedPath[] = [];
  const relOf = (path: string) => relative(root, path).split(sep).join('/');
  const addFile = async (path: string, relPath: string, sizeBytes: number) => {
    try {
      await fs.checkReadable(path);
      files.push({ path, relPath, sizeBytes });
    } catch (error) {
      failed.push({ relPath, reason: `cannot read this file: ${fsReason(error)}` });
    }
  };
  const walk = async (dir: string): Promise<void> => {
    if (options.signal?.aborted) return;
    const entries: string[] = [];
    try {
      for await (const entry of await fs.opendir(dir)) entries.push(entry.name);
    } catch (error) {
      failed.push({ relPath: `${relOf(dir)}/`, reason: `cannot read this folder: ${fsReason(error)}` });
      return;
    }
    entries.sort();
    for (const name of entries) {
      const path = join(dir, name);
      if (leaveOut(path)) continue;
      const relPath = relOf(path);
      let info;
      try {
        info = await fs.lstat(path);
      } catch (error) {
        failed.push({ relPath, reason: `cannot read this entry: ${fsReason(error)}` });
        continue;
      }
      if (info.isDirectory()) {
        await walk(path);
      } else if (info.isFile()) {
        await addFile(path, relPath, info.size);
      } else if (info.isSymbolicLink()) {
        let target: string;
        try {
          target = await fs.realpath(path);
        } catch {
          skipped.push({ relPath, reason: 'broken symbolic link' });
          continue;
        }
        if (!isInside(root, target)) {
          skipped.push({ relPath, reason: 'symbolic link to outside the folder (not followed)' });
          continue;
        }
        if (leaveOut(target)) continue;
        let targetInfo;
        try {
          targetInfo = await fs.stat(target);
        } catch (error) {
          failed.push({ relPath, reason: `cannot read this entry: ${fsReason(error)}` });
          continue;
        }
        if (targetInfo.isFile()) await addFile(target, relPath, targetInfo.size);
        else skipped.push({ relPath, reason: 'symbolic link to a folder (not followed)' });
      } else {
        skipped.push({ relPath, reason: 'not a regular file' });
      }
      if (options.signal?.aborted) return;
    }
  };
  await walk(root);
  return { root, files, skipped, failed };
}
