// Batch transcription as a new user tries it, in one process (real Groq provider against the
// stand-in, real Redis and the test database): --out the input folder or inside it, inputs that
// differ only in extension, an unreadable folder and file, Ctrl-C early, a corrupt .mp3 beside a
// .txt and a .jpg, and whether the discovery count and the progress total agree. Each test uses
// its own model name, so its files have keys of their own.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRunner} from '../../src/producers/batch/batch-runner.js';
import { type BatchProgress, type BatchRunnerDeps, type TranscribeFolderOptions } from '../../src/producers/batch/batch-runner.js';
import { nodeDiscoverFs } from '../../src/producers/batch/discover.js';
import { MANIFEST_FILE } from '../../src/producers/batch/output-manifest.js';
import { uniqueDbName } from '../support/mongo.js';
import { PHRASES, writeSpeechFile } from './support/speech-tree.js';
import { readOut, startBatchRig, type BatchRig } from './support/batch-harness.js';

let rig: BatchRig;
let base: string;
const prefix = `vs${randomBytes(5).toString('hex')}`;
const dbName = uniqueDbName('batchsafe');

const runner = (extra: Partial<BatchRunnerDeps> = {}): BatchRunner => rig.runner(extra);

/** Options for a test: its own model name, so its keys are its own. */
function options(model: string, input: string, out: string): TranscribeFolderOptions {
  return { input, out, formats: ['srt', 'txt'], language: 'pt-BR', model, maxChunkMs: 8000 };
}

async function folder(name: string): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

const exists = (path: string) => access(path).then(() => true, () => false);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'voxq-batch-safe-'));
  rig = await startBatchRig(prefix, dbName, 2);
}, 120_000);

afterAll(async () => {
  await rig?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('batch transcription keeps the user’s files and its own apart', () => {
  it('--out = the input folder: the user’s own .txt files stay as they were, a name taken fails that file alone, outputs are never read back', async () => {
    const dir = await folder('mesma pasta');
    await writeSpeechFile(join(dir, 'bom dia.wav'), [1]);
    await writeSpeechFile(join(dir, 'talk.wav'), [0]);
    // The user's notes beside the recordings, one of them where talk.wav's transcript would go.
    await writeFile(join(dir, 'bom dia.txt'), 'minhas anotações da reunião\n');
    await writeFile(join(dir, 'talk.wav.txt'), 'nota sobre a conversa\n');
    await writeFile(join(dir, 'notas.txt'), 'isto não é áudio\n');

    const first = await runner().run(options('safe-same', dir, dir));
    expect(await readFile(join(dir, 'bom dia.txt'), 'utf8')).toBe('minhas anotações da reunião\n');
    expect(await readFile(join(dir, 'talk.wav.txt'), 'utf8')).toBe('nota sobre a conversa\n');
    expect(first.files.find((f) => f.relPath === 'bom dia.wav')?.status).toBe('transcribed');
    expect((await readOut(dir, 'bom dia.wav', 'txt')).trim()).toBe(PHRASES[1]);
    const talk = first.files.find((f) => f.relPath === 'talk.wav');
    expect(talk?.status).toBe('failed');
    expect(talk?.reason).toMatch(/^not overwriting .*talk\.wav\.txt: voxq did not write it/);
    // All of an input's outputs or none: talk.wav.srt was not written either.
    expect(await exists(join(dir, 'talk.wav.srt'))).toBe(false);
    expect(await exists(join(dir, MANIFEST_FILE))).toBe(true);

    let found = 0;
    const again = runner();
    again.on('found', (f) => (found = f.files));
    const second = await again.run(options('safe-same', dir, dir));
    // Found: the two recordings and the user's three notes; not voxq's outputs, list or failures file.
    expect(found).toBe(5);
    expect(second.skipped.map((s) => s.relPath).sort()).toEqual(['bom dia.txt', 'notas.txt', 'talk.wav.txt']);
    expect(second.files.map((f) => `${f.relPath}:${f.status}`).sort()).toEqual(['bom dia.wav:already_done', 'talk.wav:failed']);
    expect(await readFile(join(dir, 'talk.wav.txt'), 'utf8')).toBe('nota sobre a conversa\n');
  });

  it('--out inside the input folder: the next run does not read its own outputs', async () => {
    const dir = await folder('dentro');
    await writeSpeechFile(join(dir, 'a.wav'), [2]);
    await writeSpeechFile(join(dir, 'sub/b.flac'), [0, 1]);
    const out = join(dir, 'transcrições');
    const first = await runner().run(options('safe-inside', dir, out));
    expect(first.files.map((f) => f.status)).toEqual(['transcribed', 'transcribed']);

    const counts: number[] = [];
    const again = runner();
    again.on('found', (f) => counts.push(f.files));
    again.on('discovered', (d) => counts.push(d.files, d.skipped.length, d.failed.length));
    const second = await again.run(options('safe-inside', dir, out));
    expect(counts).toEqual([2, 2, 0, 0]);
    expect(second.skipped).toEqual([]);
    expect(second.files.map((f) => `${f.relPath}:${f.status}`).sort()).toEqual(['a.wav:already_done', 'sub/b.flac:already_done']);
    expect((await readOut(out, 'sub/b.flac', 'txt')).trim()).toBe(`${PHRASES[0]} ${PHRASES[1]}`);
  });

  it('talk.ogg, talk.opus and talk.wav in one folder: each its own outputs, on every run', async () => {
    const dir = await folder('talks');
    const out = await folder('talks-out');
    const said: Record<string, number> = { 'talk.ogg': 1, 'talk.opus': 2, 'talk.wav': 3 };
    for (const [name, phrase] of Object.entries(said)) await writeSpeechFile(join(dir, name), [phrase]);

    for (const expected of ['transcribed', 'already_done']) {
      const summary = await runner().run(options('safe-talks', dir, out));
      expect(summary.files.map((f) => `${f.relPath}:${f.status}`).sort()).toEqual(Object.keys(said).map((n) => `${n}:${expected}`));
      for (const [name, phrase] of Object.entries(said)) {
        expect((await readOut(out, name, 'txt')).trim(), name).toBe(PHRASES[phrase]);
        expect(await readOut(out, name, 'srt'), name).toContain(PHRASES[phrase]);
      }
    }
  });
});

describe('batch transcription reports every file truly', () => {
  it('an unreadable folder and file fail alone, EACCES in words; the rest is transcribed', async () => {
    const dir = await folder('trancada');
    const out = await folder('trancada-out');
    await writeSpeechFile(join(dir, 'aberto.wav'), [0]);
    await writeSpeechFile(join(dir, 'privado/segredo.wav'), [1]);
    await writeSpeechFile(join(dir, 'trancado.wav'), [2]);
    const eacces = (path: string) => Object.assign(new Error(`EACCES: permission denied, '${path}'`), { code: 'EACCES' });
    // The test runs as root, who reads everything: the walk's calls answer as for another user
    // (cli-errors.test.ts does it for real, as a user without the permission).
    const summary = await runner({
      discoverFs: {
        opendir: (path) => (path.endsWith('/privado') ? Promise.reject(eacces(path)) : nodeDiscoverFs.opendir(path)),
        checkReadable: (path) => (path.endsWith('/trancado.wav') ? Promise.reject(eacces(path)) : nodeDiscoverFs.checkReadable(path)),
      },
    }).run(options('safe-eacces', dir, out));
    expect(summary.failures).toEqual([
      { relPath: 'privado/', reason: 'cannot read this folder: permission denied (EACCES)' },
      { relPath: 'trancado.wav', reason: 'cannot read this file: permission denied (EACCES)' },
    ]);
    expect(summary.files.find((f) => f.relPath === 'aberto.wav')?.status).toBe('transcribed');
    expect(await readFile(summary.failuresFile ?? '', 'utf8')).toContain('privado/\tcannot read this folder: permission denied (EACCES)');
  });

  it('stopped early (Ctrl-C), files not started are "not started (interrupted)", never "skipped"; a re-run finishes', async () => {
    const dir = await folder('parada');
    const out = await folder('parada-out');
    await writeSpeechFile(join(dir, 'um.wav'), [0]);
    await writeSpeechFile(join(dir, 'dois.mp3'), [1]);
    await writeSpeechFile(join(dir, 'três.ogg'), [2]);
    await writeFile(join(dir, 'notas.txt'), 'isto não é áudio\n');
    const abort = new AbortController();
    const run = runner();
    run.on('found', () => abort.abort());
    const stopped = await run.run({ ...options('safe-abort', dir, out), signal: abort.signal });
    expect(stopped.interrupted).toBe(true);
    expect(stopped.skipped).toEqual([]);
    expect(stopped.failures).toEqual([]);
    expect(stopped.files.map((f) => `${f.relPath}:${f.status}:${f.reason}`).sort()).toEqual(
      ['dois.mp3', 'notas.txt', 'três.ogg', 'um.wav'].map((n) => `${n}:interrupted:not started (interrupted)`),
    );

    const rerun = await runner().run(options('safe-abort', dir, out));
    expect(rerun.interrupted).toBe(false);
    expect(rerun.skipped.map((s) => s.relPath)).toEqual(['notas.txt']);
    expect(rerun.files.map((f) => `${f.relPath}:${f.status}`).sort()).toEqual(['dois.mp3:transcribed', 'três.ogg:transcribed', 'um.wav:transcribed']);
  });

  it('a corrupt .mp3 fails as corrupt audio, a .txt and a .jpg are skipped, and the discovery count is the progress total', async () => {
    const dir = await folder('mistura');
    const out = await folder('mistura-out');
    await writeSpeechFile(join(dir, 'bom.wav'), [3]);
    await writeSpeechFile(join(dir, 'outro.m4a'), [0]);
    await writeFile(join(dir, 'estragado.mp3'), Buffer.from('isto era um mp3 '.repeat(250)));
    await writeFile(join(dir, 'notas.txt'), 'isto não é áudio\n');
    await promisify(execFile)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', join(dir, 'foto.jpg')]);

    const run = runner();
    let found = -1;
    let discovered = { files: -1, skipped: -1, failed: -1 };
    const progress: BatchProgress[] = [];
    run.on('found', (f) => (found = f.files));
    run.on('discovered', (d) => (discovered = { files: d.files, skipped: d.skipped.length, failed: d.failed.length }));
    run.on('progress', (p) => progress.push(p));
    const summary = await run.run(options('safe-mixed', dir, out));

    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]?.relPath).toBe('estragado.mp3');
    expect(summary.failures[0]?.reason).toMatch(/^corrupt audio \(/);
    expect(summary.skipped.map((s) => s.relPath)).toEqual(['foto.jpg', 'notas.txt']);
    for (const s of summary.skipped) expect(s.reason, s.relPath).toMatch(/^not an audio file\b/);
    expect(discovered).toEqual({ files: 2, skipped: 2, failed: 1 });
    expect(found).toBe(5);
    // The total is what will be transcribed, from the first progress event to the last.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.filesTotal === discovered.files)).toBe(true);
    const last = progress.at(-1);
    expect((last?.filesDone ?? 0) + (last?.filesFailed ?? 0)).toBe(discovered.files);
    expect(summary.files.filter((f) => f.status === 'transcribed').map((f) => f.relPath).sort()).toEqual(['bom.wav', 'outro.m4a']);
  });
});
