// A filesystem error in words a user reads at a glance, with its code kept for searching:
// EACCES → "permission denied (EACCES)". Unknown codes keep the system's message.

const WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EBUSY: 'busy',
  ESTALE: 'stale network file handle',
};

export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function fsReason(error: unknown): string {
  const code = errnoCode(error);
  if (code && WORDS[code]) return `${WORDS[code]} (${code})`;
  if (code) return `${code}: ${error instanceof Error ? error.message : String(error)}`;
  return error instanceof Error ? error.message : String(error);
}
