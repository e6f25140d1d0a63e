// `voxq transcribe` as a new user meets it (dist/cli.js in a child process, its own STT workers,
// the Groq stand-in): a folder that is missing, a file, an --out that is a file; Ctrl-C from a
// terminal early in the run (the whole process group gets SIGINT, ffprobe included); and a folder
// and a file the user may not read, for real, run as a user without the permission.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { STANDIN_API_KEY, type GroqStandin } from '../support/groq-standin.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { CLI, spawnVoxq, watchProcess, type VoxqProcess } from '../support/voxq-process.js';
import { PHRASES, writeSpeechFile } from './support/speech-tree.js';
import { deletePrefix, readOut, recognizingStandin } from './support/batch-harness.js';

let standin: GroqStandin;
let base: string;
const prefix = `vu${randomBytes(5).toString('hex')}`;
const dbName = uniqueDbName('batchuser');

beforeAll(async () => {
  standin = await recognizingStandin();
  base = await mkdtemp(join(tmpdir(), 'voxq-batch-user-'));
}, 120_000);

afterAll(async () => {
  await standin?.close();
  const client = new MongoClient(testMongoUrl());
  await client.db(dbName).dropDatabase();
  await client.close();
  await deletePrefix(prefix);
  if (base) await rm(base, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    REDIS_URL: inject('redisUrl'),
    MONGO_URL: testMongoUrl(),
    VOXQ_MONGO_DB: dbName,
    VOXQ_PREFIX: prefix,
    VOXQ_STT: 'groq',
    GROQ_API_KEY: STANDIN_API_KEY,
    GROQ_BASE_URL: standin.url,
    VOXQ_STT_REQUESTS_PER_MINUTE: '6000',
    VOXQ_LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: 'true',
  };
}

/** Resolves once stderr holds `text`; rejects if the process ends first. */
function stderrSays(voxq: VoxqProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!voxq.stderr().includes(text)) return;
      voxq.child.stderr?.off('data', check);
      resolve();
    };
    voxq.child.stderr?.on('data', check);
    void voxq.exited.then(() => reject(new Error(`voxq ended before saying "${text}":\n${voxq.stderr().slice(-3000)}`)));
    check();
  });
}

describe('voxq transcribe, folder problems', () => {
  it('a missing folder, a file given as the folder, an --out that is a file: one line naming the path, exit 2, no stack trace', async () => {
    const dir = join(base, 'problemas');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'gravação.wav'), 'x');
    const cases: [string[], RegExp][] = [
      [[join(dir, 'não existe'), '--out', join(dir, 'saida')], /não existe: no such folder/],
      [[join(dir, 'gravação.wav'), '--out', join(dir, 'saida')], /gravação\.wav is a file, not a folder/],
      [[dir, '--out', join(dir, 'gravação.wav')], /--out .*gravação\.wav is a file, not a folder/],
    ];
    for (const [args, problem] of cases) {
      const voxq = spawnVoxq(['transcribe', ...args, '--workers', '0'], env());
      expect(await voxq.exited, voxq.stderr()).toBe(2);
      const lines = voxq.stderr().trim().split('\n');
      expect(lines, voxq.stderr()).toHaveLength(1);
      expect(lines[0]).toMatch(/^voxq: /);
      expect(lines[0]).toMatch(problem);
      expect(voxq.stderr()).not.toMatch(/^\s+at /m);
      expect(voxq.stdout()).toBe('');
    }
  });
});

describe('voxq transcribe, interrupted and unreadable', () => {
  it('Ctrl-C early from a terminal: exit 130, the summary says interrupted and lists files not started (none "skipped"); a re-run finishes', { timeout: 150_000 }, async () => {
    const dir = join(base, 'ctrl-c');
    const out = join(base, 'ctrl-c-out');
    const said: Record<string, number[]> = { 'um.wav': [0], 'dois.mp3': [1], 'três.ogg': [2], 'quatro/cinco.flac': [3], 'seis.m4a': [1, 0] };
    for (const [name, phrases] of Object.entries(said)) await writeSpeechFile(join(dir, name), phrases);
    await writeFile(join(dir, 'notas.txt'), 'isto não é áudio\n');
    const args = ['transcribe', dir, '--out', out, '--format', 'txt', '--workers', '1'];

    // Its own process group, as a shell gives a job: Ctrl-C reaches voxq and its ffprobe children.
    const voxq = watchProcess(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    await stderrSays(voxq, 'files found');
    process.kill(-(voxq.child.pid ?? 0), 'SIGINT');
    expect(await voxq.exited, voxq.stderr().slice(-3000)).toBe(130);
    const stdout = voxq.stdout();
    expect(stdout).toMatch(/· INTERRUPTED$/m);
    expect(stdout).toMatch(/^interrupted: \d+ files not finished; run the same command again to resume/m);
    expect(stdout).toMatch(/^not started \(interrupted\): /m);
    for (const name of Object.keys(said)) expect(stdout, stdout).not.toContain(`skipped ${name}`);
    expect(stdout, stdout).not.toContain('FAILED');

    const rerun = spawnVoxq(args, env());
    expect(await rerun.exited, rerun.stderr().slice(-3000)).toBe(0);
    expect(rerun.stdout()).toContain('skipped notas.txt: not an audio file');
    for (const [name, phrases] of Object.entries(said)) {
      expect((await readOut(out, name, 'txt')).trim(), name).toBe(phrases.map((p) => PHRASES[p]).join(' '));
    }
  });

  // As root every file is readable, so the run drops to `nobody` (setpriv) to meet EACCES for real —
  // when `nobody` can run voxq from this checkout at all (a clone in a private folder, say, it cannot).
  const root = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const nobodyCanRun =
    !root ||
    (setpriv !== undefined &&
      spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(CLI)}, 4)`]).status === 0);
  it.skipIf(!nobodyCanRun)('a folder and a file it may not read fail alone, EACCES in words; the rest is transcribed', { timeout: 120_000 }, async () => {
    const dir = join(base, 'permissões');
    const out = join(base, 'permissões-out');
    await writeSpeechFile(join(dir, 'aberto.wav'), [2]);
    await writeSpeechFile(join(dir, 'privado/segredo.wav'), [1]);
    await writeSpeechFile(join(dir, 'trancado.wav'), [0]);
    await mkdir(out, { recursive: true });
    await Promise.all([chmod(base, 0o755), chmod(out, 0o777), chmod(join(dir, 'privado'), 0o000), chmod(join(dir, 'trancado.wav'), 0o000)]);
    const args = [CLI, 'transcribe', dir, '--out', out, '--format', 'txt', '--workers', '1'];
    const [command, commandArgs] =
      root && setpriv ? [setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args]] : [process.execPath, args];
    try {
      const voxq = watchProcess(spawn(command, commandArgs, { env: { ...process.env, ...env(), HOME: tmpdir() }, stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(await voxq.exited, voxq.stderr().slice(-3000)).toBe(1);
      const stdout = voxq.stdout();
      expect(stdout).toContain('FAILED privado/: cannot read this folder: permission denied (EACCES)');
      expect(stdout).toContain('FAILED trancado.wav: cannot read this file: permission denied (EACCES)');
      expect(stdout).toMatch(/^transcribed 1, .* failed 2,/m);
      expect((await readOut(out, 'aberto.wav', 'txt')).trim()).toBe(PHRASES[2]);
    } finally {
      await Promise.all([chmod(join(dir, 'privado'), 0o755), chmod(join(dir, 'trancado.wav'), 0o644)]);
    }
  });
});
