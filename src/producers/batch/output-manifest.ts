// What voxq wrote under --out: `.voxq-transcripts.json` lists each output (path relative to --out)
// with the SHA-256 of what voxq wrote there. voxq replaces a file only when the list has it and
// it is unchanged since; a file already holding exactly the new content is kept and listed.
// Anything else at an output's path (the user's own file, a transcript edited since) is left as
// it is, and that input fails with the reason. The walk leaves out every listed file, the list
// itself and voxq's temp files, so outputs are never read as inputs when --out is the input
// folder or inside it. A file named like the list that is not one stops the run before it starts.
import { createHash } from 'node:crypto';
import { lstat, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { InputError, VoxqError } from '../../shared/errors.js';
import { isInside } from './discover.js';
import { errnoCode, fsReason } from './fs-reasons.js';
import { TEMP_NAME, writeWhole } from './output-paths.js';

export const MANIFEST_FILE = '.voxq-transcripts.json';
const MANIFEST_KIND = 'voxq-transcripts';
/** The list is written at most this often while files complete, and always at the end. */
const SAVE_EVERY_MS = 2000;

interface ManifestJson {
  kind: typeof MANIFEST_KIND;
  version: 1;
  /** Output path relative to --out ('/' separators) → SHA-256 of the content voxq wrote. */
  files: Record<string, string>;
}

/** An output's path holds a file voxq did not write (or one changed since): not replaced. */
export class OutputNotOursError extends VoxqError {
  constructor(message: string) {
    super('output_not_ours', message);
  }
}

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class OutputManifest {
  private dirty = false;
  private savedAt = 0;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly root: string,
    private readonly files: Map<string, string>,
  ) {}

  get path(): string {
    return join(this.root, MANIFEST_FILE);
  }

  /** Reads the list in `root` (empty when there is none yet). */
  static async open(root: string): Promise<OutputManifest> {
    const path = join(root, MANIFEST_FILE);
    const notOurs = (why: string) =>
      new InputError('manifest_not_ours', `${path} ${why}, so it is not voxq's list of what it wrote: move it away or choose another --out`);
    let text: string;
    try {
      const info = await lstat(path);
      if (!info.isFile()) throw notOurs('is not a regular file');
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (error instanceof InputError) throw error;
      if (errnoCode(error) === 'ENOENT') return new OutputManifest(root, new Map());
      throw new InputError('manifest_unreadable', `cannot read ${path}: ${fsReason(error)}`);
    }
    let json: Partial<ManifestJson>;
    try {
      json = JSON.parse(text) as Partial<ManifestJson>;
    } catch {
      throw notOurs('is not JSON');
    }
    const files = json.files;
    if (json.kind !== MANIFEST_KIND || json.version !== 1 || typeof files !== 'object' || files === null) throw notOurs(`has no "kind": "${MANIFEST_KIND}"`);
    const entries = Object.entries(files).filter((e): e is [string, string] => typeof e[1] === 'string' && /^[0-9a-f]{64}$/.test(e[1]));
    return new OutputManifest(root, new Map(entries));
  }

  private relOf(absPath: string): string | undefined {
    return isInside(this.root, absPath) ? relative(this.root, absPath).split(sep).join('/') : undefined;
  }

  /** voxq's own files: listed outputs, the list itself and voxq's temp files under --out. */
  isOwn(absPath: string): boolean {
    const rel = this.relOf(absPath);
    return rel !== undefined && (rel === MANIFEST_FILE || this.files.has(rel) || TEMP_NAME.test(rel));
  }

  /** Writes an output whole, unless its path holds a file voxq did not write (OutputNotOursError). */
  async write(absPath: string, content: string): Promise<void> {
    await this.writeAll([{ path: absPath, content }]);
  }

  /** Writes one input's outputs: all of them, or (any path not voxq's to replace) none. */
  async writeAll(outputs: readonly { path: string; content: string }[]): Promise<void> {
    const plans = [];
    for (const output of outputs) plans.push({ ...output, ...(await this.plan(output.path, output.content)) });
    for (const plan of plans) {
      if (plan.write) {
        try {
          await writeWhole(plan.path, plan.content);
        } catch (error) {
          throw new VoxqError('output_unwritable', `cannot write ${plan.path}: ${fsReason(error)}`);
        }
      }
      this.record(plan.rel, plan.hash);
    }
  }

  /** Whether `absPath` may take `content`: write it, keep it (already that), or throw. */
  private async plan(absPath: string, content: string): Promise<{ rel: string; hash: string; write: boolean }> {
    const rel = this.relOf(absPath);
    if (rel === undefined) throw new VoxqError('output_escapes', `${absPath} is outside the output folder`);
    const hash = sha256(content);
    let info;
    try {
      info = await lstat(absPath);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { rel, hash, write: true };
      throw new VoxqError('output_unwritable', `cannot write ${absPath}: ${fsReason(error)}`);
    }
    const notOurs = () => new OutputNotOursError(`not overwriting ${absPath}: voxq did not write it (move it away or choose another --out)`);
    if (!info.isFile()) throw notOurs();
    const listed = this.files.get(rel);
    // Unlisted and of another size: not what voxq would write, no need to read it.
    if (listed === undefined && info.size !== Buffer.byteLength(content)) throw notOurs();
    const present = sha256(await readFile(absPath));
    if (present === hash) return { rel, hash, write: false };
    if (listed === undefined) throw notOurs();
    if (listed !== present) throw new OutputNotOursError(`not overwriting ${absPath}: it was changed after voxq wrote it (delete it to have it written again)`);
    return { rel, hash, write: true };
  }

  /** Removes a file voxq wrote and that is unchanged since; leaves anything else. True if removed. */
  async remove(absPath: string): Promise<boolean> {
    const rel = this.relOf(absPath);
    const listed = rel === undefined ? undefined : this.files.get(rel);
    if (rel === undefined || listed === undefined) return false;
    try {
      if (sha256(await readFile(absPath)) !== listed) return false;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') return false;
    }
    await rm(absPath, { force: true });
    this.files.delete(rel);
    this.dirty = true;
    return true;
  }

  private record(rel: string, hash: string): void {
    if (this.files.get(rel) === hash) return;
    this.files.set(rel, hash);
    this.dirty = true;
  }

  /** Saves the list if it changed and was last saved a while ago (cheap to call after every file). */
  checkpoint(now = Date.now()): Promise<void> {
    return this.dirty && now - this.savedAt >= SAVE_EVERY_MS ? this.save() : Promise.resolve();
  }

  /** Saves the list if it changed (one save at a time; a failed save leaves it to the next). */
  save(): Promise<void> {
    this.saving = this.saving.catch(() => undefined).then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.savedAt = Date.now();
      const files = Object.fromEntries([...this.files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const json: ManifestJson = { kind: MANIFEST_KIND, version: 1, files };
      try {
        await writeWhole(this.path, `${JSON.stringify(json, null, 1)}\n`);
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    });
    return this.saving;
  }
}
