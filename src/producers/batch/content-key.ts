// A file's batch key: SHA-1 over the SHA-256 of its content and the options that change its
// transcript (language, provider model). Job ids and the MongoDB record derive from it, so a
// re-run, a renamed copy or an identical file all meet the same record.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const KEY_VERSION = 'voxq-batch-v1';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function batchKey(contentSha256: string, options: { language: string; model: string }): string {
  return createHash('sha1').update(JSON.stringify([KEY_VERSION, contentSha256, options.language, options.model])).digest('hex');
}
