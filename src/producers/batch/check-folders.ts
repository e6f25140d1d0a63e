// Before a batch starts: the input must be a readable folder and --out a folder voxq can write
// (created when missing). Each problem is one InputError naming the path and what is wrong, which
// the CLI prints as one line with exit 2. --out may be the input folder itself or inside it: the
// walk then leaves out the output folder and voxq's own outputs (output-manifest.ts).
import { constants } from 'node:fs';
import { access, mkdir, opendir, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../../shared/errors.js';
import { isInside } from './discover.js';
import { errnoCode, fsReason } from './fs-reasons.js';

export interface BatchFolders {
  /** Real paths (symbolic links resolved). */
  input: string;
  out: string;
  /** --out is a folder below the input folder: the walk leaves it out. */
  outInsideInput: boolean;
  /** --out is the input folder: outputs sit beside the recordings. */
  outIsInput: boolean;
}

export async function checkFolders(input: string, out: string): Promise<BatchFolders> {
  const inputPath = resolve(input);
  try {
    const info = await stat(inputPath);
    if (!info.isDirectory()) {
      throw new InputError('input_not_folder', `${input} is a file, not a folder: give the folder that holds the recordings`);
    }
    await (await opendir(inputPath)).close();
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (errnoCode(error) === 'ENOENT') throw new InputError('input_missing', `${input}: no such folder`);
    throw new InputError('input_unreadable', `cannot read the folder ${input}: ${fsReason(error)}`);
  }

  const outPath = resolve(out);
  try {
    const info = await stat(outPath);
    if (!info.isDirectory()) throw new InputError('out_not_folder', `--out ${out} is a file, not a folder`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (errnoCode(error) !== 'ENOENT') throw new InputError('out_unusable', `cannot use --out ${out}: ${fsReason(error)}`);
    try {
      await mkdir(outPath, { recursive: true });
    } catch (cause) {
      throw new InputError('out_unusable', `cannot create --out ${out}: ${fsReason(cause)}`, { cause });
    }
  }
  try {
    await access(outPath, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new InputError('out_unusable', `cannot write in --out ${out}: ${fsReason(error)}`);
  }

  const [realInput, realOut] = await Promise.all([realpath(inputPath), realpath(outPath)]);
  return { input: realInput, out: realOut, outInsideInput: isInside(realInput, realOut), outIsInput: realInput === realOut };
}
