// The parts of batch transcription on their own: output formats, output paths, discovery,
// chunk planning at silences and the shared audio budget (the request window: stt-limits.test.ts).
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { planChunks, speechRegions } from '../../src/shared/audio/speech-chunks.js';
import { VAD_FRAME_MS } from '../../src/shared/audio/silero-vad.js';
import { AudioBudget } from '../../src/shared/rate-limit/audio-budget.js';
import { probeAudioFile } from '../../src/shared/audio/probe-file.js';
import { InputError } from '../../src/shared/errors.js';
import { checkFolders } from '../../src/producers/batch/check-folders.js';
import { discover, nodeDiscoverFs } from '../../src/producers/batch/discover.js';
import { MANIFEST_FILE, OutputManifest } from '../../src/producers/batch/output-manifest.js';
import { outputPath, removeStaleTemps } from '../../src/producers/batch/output-paths.js';
import { probeVerdict } from '../../src/producers/batch/probe-verdict.js';
import { progressLine } from '../../src/producers/batch/progress-bar.js';
import { toJson, toSrt, toTxt, toVtt } from '../../src/producers/batch/transcript-formats.js';
import { sampleRecord } from '../contracts/batch-record-store.contract.js';

const prefix = `vp${randomBytes(5).toString('hex')}`;
const redis = new Redis(inject('redisUrl'));
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('transcript formats', () => {
  const record = sampleRecord({
    segments: [
      { startMs: 0, endMs: 1500, text: 'olá', confidence: 0.91234 },
      { startMs: 3_725_010, endMs: 3_726_999, text: 'até logo' },
    ],
    text: 'olá até logo',
  });
  it('SRT: numbered cues, HH:MM:SS,mmm', () => {
    expect(toSrt(record)).toBe('1\n00:00:00,000 --> 00:00:01,500\nolá\n\n2\n01:02:05,010 --> 01:02:06,999\naté logo\n');
  });
  it('WebVTT: header, HH:MM:SS.mmm', () => {
    expect(toVtt(record)).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nolá\n\n01:02:05.010 --> 01:02:06.999\naté logo\n');
  });
  it('JSON: segments with start, end, text and confidence where given; plain text', () => {
    const json = JSON.parse(toJson(record, 'a/b.wav')) as { source: string; segments: Record<string, unknown>[] };
    expect(json.source).toBe('a/b.wav');
    expect(json.segments).toEqual([
      { start: 0, end: 1.5, text: 'olá', confidence: 0.912 },
      { start: 3725.01, end: 3726.999, text: 'até logo' },
    ]);
    expect(toTxt(record)).toBe('olá até logo\n');
    expect(toTxt({ ...record, text: '' })).toBe('');
  });
});

describe('output paths', () => {
  it('mirror the input under --out with the format extension added, and never leave it', () => {
    const out = resolve('/tmp/saida');
    expect(outputPath(out, 'a b/ção.mp3', 'srt')).toBe(join(out, 'a b', 'ção.mp3.srt'));
    expect(outputPath(out, 'sem extensão', 'txt')).toBe(join(out, 'sem extensão.txt'));
    // One rule, whatever else is in the folder: inputs that differ only in extension never share outputs.
    const talks = ['talk.ogg', 'talk.opus', 'talk.wav', 'talk'].map((f) => outputPath(out, f, 'txt'));
    expect(new Set(talks).size).toBe(4);
    expect(talks[0]).toBe(join(out, 'talk.ogg.txt'));
    expect(() => outputPath(out, '../fora.wav', 'txt')).toThrow(/leave the output folder/);
    expect(() => outputPath(out, 'a/../../fora.wav', 'txt')).toThrow(/leave the output folder/);
    expect(outputPath(out, '/etc/passwd', 'txt')).toBe(join(out, 'etc', 'passwd.txt'));
  });

  it('lose the temp files of a run that died mid-write, and keep a live run\'s', async () => {
    const out = await mkdtemp(join(tmpdir(), 'voxq-temps-'));
    try {
      await mkdir(join(out, 'a'));
      // A pid no process has (above Linux's pid_max) and this process's own.
      await writeFile(join(out, 'a', 'x.txt.voxq-4194999.tmp'), 'half');
      await writeFile(join(out, 'a', `y.txt.voxq-${process.pid}.tmp`), 'mine');
      await writeFile(join(out, 'a', 'z.txt'), 'done');
      // A user's own temp-looking file is not voxq's to remove.
      await writeFile(join(out, 'a', 'notes.4194999.tmp'), 'the user\'s');
      expect(await removeStaleTemps(out)).toBe(1);
      expect((await readdir(join(out, 'a'))).sort()).toEqual(['notes.4194999.tmp', `y.txt.voxq-${process.pid}.tmp`, 'z.txt']);
      expect(await removeStaleTemps(join(out, 'missing'))).toBe(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('discovery', () => {
  it('walks nested odd names, follows links inside the tree to files only, lists the rest as skipped', async () => {
    const base = await mkdtemp(join(tmpdir(), 'voxq-disc-'));
    try {
      const root = join(base, 'raiz');
      await mkdir(join(root, 'ç d/e f'), { recursive: true });
      await writeFile(join(root, 'ç d/e f/ã.bin'), 'x');
      await writeFile(join(base, 'fora.bin'), 'x');
      await symlink(join(base, 'fora.bin'), join(root, 'fora-link'));
      await symlink(join(root, 'ç d'), join(root, 'pasta-link'));
      await symlink(join(root, 'ç d/e f/ã.bin'), join(root, 'dentro-link'));
      await symlink(join(root, 'nada'), join(root, 'quebrado-link'));
      const found = await discover(root);
      expect(found.files.map((f) => f.relPath)).toEqual(['dentro-link', 'ç d/e f/ã.bin']);
      expect(Object.fromEntries(found.skipped.map((s) => [s.relPath, s.reason]))).toEqual({
        'fora-link': 'symbolic link to outside the folder (not followed)',
        'pasta-link': 'symbolic link to a folder (not followed)',
        'quebrado-link': 'broken symbolic link',
      });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('discovery, unreadable and left-out paths', () => {
  const eacces = (path: string) => Object.assign(new Error(`EACCES: permission denied, '${path}'`), { code: 'EACCES' });

  it('fails an unreadable folder or file alone, with EACCES in words, and walks on', async () => {
    const base = await mkdtemp(join(tmpdir(), 'voxq-disc-eacces-'));
    try {
      await mkdir(join(base, 'privado/sub'), { recursive: true });
      await mkdir(join(base, 'público'));
      await writeFile(join(base, 'privado/sub/a.wav'), 'x');
      await writeFile(join(base, 'público/b.wav'), 'x');
      await writeFile(join(base, 'público/trancado.wav'), 'x');
      // Root reads everything: the walk's filesystem calls say EACCES where a user would meet it.
      const found = await discover(base, {
        fs: {
          opendir: (path) => (path.endsWith('privado') ? Promise.reject(eacces(path)) : nodeDiscoverFs.opendir(path)),
          checkReadable: (path) => (path.endsWith('trancado.wav') ? Promise.reject(eacces(path)) : nodeDiscoverFs.checkReadable(path)),
        },
      });
      expect(found.files.map((f) => f.relPath)).toEqual(['público/b.wav']);
      expect(found.failed).toEqual([
        { relPath: 'privado/', reason: 'cannot read this folder: permission denied (EACCES)' },
        { relPath: 'público/trancado.wav', reason: 'cannot read this file: permission denied (EACCES)' },
      ]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('leaves out what the caller says (the output folder, voxq outputs) without listing it', async () => {
    const base = await mkdtemp(join(tmpdir(), 'voxq-disc-out-'));
    try {
      await mkdir(join(base, 'saida/a'), { recursive: true });
      await writeFile(join(base, 'saida/a/x.wav.txt'), 'x');
      await writeFile(join(base, 'x.wav'), 'x');
      await writeFile(join(base, 'x.wav.srt'), 'x');
      const found = await discover(base, { leaveOut: (p) => p === join(base, 'saida') || p === join(base, 'x.wav.srt') });
      expect(found.files.map((f) => f.relPath)).toEqual(['x.wav']);
      expect(found.skipped).toEqual([]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('audio or not', () => {
  const run = promisify(execFile);
  it('a garbled or empty file with an audio name is corrupt audio (failed); a .txt, a .jpg, an empty note are skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voxq-verdict-'));
    try {
      // Bytes that start like nothing ffprobe knows, under an audio name.
      await writeFile(join(dir, 'estragado.mp3'), Buffer.from('isto era um mp3 '.repeat(250)));
      await writeFile(join(dir, 'notas.txt'), 'isto não é áudio\n'.repeat(50));
      await writeFile(join(dir, 'vazio.txt'), '');
      await writeFile(join(dir, 'vazio.wav'), '');
      await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', join(dir, 'foto.jpg')]);
      const verdict = async (name: string) => {
        try {
          await probeAudioFile(join(dir, name));
          return { skip: false, reason: 'audio' };
        } catch (error) {
          return probeVerdict(name, error);
        }
      };
      const garbled = await verdict('estragado.mp3');
      expect(garbled.skip).toBe(false);
      expect(garbled.reason).toMatch(/^corrupt audio \(.*\.mp3\)$/);
      for (const name of ['notas.txt', 'foto.jpg']) {
        const clearlyNot = await verdict(name);
        expect(clearlyNot.skip, name).toBe(true);
        expect(clearlyNot.reason, name).toMatch(/^not an audio file\b/);
      }
      expect(await verdict('vazio.txt')).toEqual({ skip: true, reason: 'not an audio file: the file is empty (0 bytes)' });
      expect(await verdict('vazio.wav')).toEqual({ skip: false, reason: 'corrupt audio (the file is empty (0 bytes))' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('output manifest', () => {
  it('writes new outputs, replaces only its own unchanged ones, and never a file voxq did not write', async () => {
    const out = await mkdtemp(join(tmpdir(), 'voxq-manifest-'));
    try {
      const manifest = await OutputManifest.open(out);
      const mine = join(out, 'a', 'x.wav.txt');
      await manifest.write(mine, 'um\n');
      await manifest.write(mine, 'dois\n'); // its own, unchanged since: replaced
      expect(await readFile(mine, 'utf8')).toBe('dois\n');

      const users = join(out, 'notas.wav.txt');
      await writeFile(users, 'minhas notas\n');
      await expect(manifest.write(users, 'transcrição\n')).rejects.toThrow(/not overwriting .*notas\.wav\.txt: voxq did not write it/);
      expect(await readFile(users, 'utf8')).toBe('minhas notas\n');

      // Edited after voxq wrote it: the edit stays.
      await writeFile(mine, 'editado à mão\n');
      await expect(manifest.write(mine, 'três\n')).rejects.toThrow(/changed after voxq wrote it/);
      expect(await readFile(mine, 'utf8')).toBe('editado à mão\n');

      // Already exactly what voxq would write (an earlier run killed before the list was saved): kept and listed.
      const same = join(out, 'b.wav.txt');
      await writeFile(same, 'igual\n');
      await manifest.write(same, 'igual\n');
      expect(manifest.isOwn(same)).toBe(true);
      expect(manifest.isOwn(users)).toBe(false);
      expect(manifest.isOwn(join(out, MANIFEST_FILE))).toBe(true);

      await manifest.save();
      const again = await OutputManifest.open(out);
      expect(again.isOwn(same) && again.isOwn(mine)).toBe(true);
      expect(await again.remove(users)).toBe(false);
      expect(await readFile(users, 'utf8')).toBe('minhas notas\n');
      expect(await again.remove(same)).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses up front a file named like the list that is not one', async () => {
    const out = await mkdtemp(join(tmpdir(), 'voxq-manifest-foreign-'));
    try {
      await writeFile(join(out, MANIFEST_FILE), '{"meu": "arquivo"}');
      await expect(OutputManifest.open(out)).rejects.toThrow(InputError);
      await expect(OutputManifest.open(out)).rejects.toThrow(/not voxq's list of what it wrote/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('folder checks', () => {
  it('name the path and the problem: missing, a file as the folder, --out a file', async () => {
    const base = await mkdtemp(join(tmpdir(), 'voxq-folders-'));
    try {
      await writeFile(join(base, 'gravação.wav'), 'x');
      await expect(checkFolders(join(base, 'nada'), join(base, 'saida'))).rejects.toThrow(`${join(base, 'nada')}: no such folder`);
      await expect(checkFolders(join(base, 'gravação.wav'), join(base, 'saida'))).rejects.toThrow(/gravação\.wav is a file, not a folder/);
      await expect(checkFolders(base, join(base, 'gravação.wav'))).rejects.toThrow(/--out .*gravação\.wav is a file, not a folder/);
      const inside = await checkFolders(base, join(base, 'saida'));
      expect(inside).toMatchObject({ outInsideInput: true, outIsInput: false });
      expect((await checkFolders(base, base)).outIsInput).toBe(true);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('speech regions and chunks', () => {
  const probsOf = (pattern: [number, number][]) => {
    const values: number[] = [];
    for (const [p, ms] of pattern) for (let i = 0; i < ms / VAD_FRAME_MS; i += 1) values.push(p);
    return Float32Array.from(values);
  };

  it('finds speech, pads it, and cuts chunks only at silences under the limit', () => {
    // 1.6 s silence, 3.2 s speech, 1.6 s silence, 3.2 s speech, 3.2 s silence, 1.6 s speech
    const probs = probsOf([[0.01, 1600], [0.95, 3200], [0.02, 1600], [0.9, 3200], [0.01, 3200], [0.9, 1600]]);
    const totalMs = probs.length * VAD_FRAME_MS;
    const regions = speechRegions(probs, totalMs);
    expect(regions).toEqual([
      { startMs: 1400, endMs: 5000 },
      { startMs: 6200, endMs: 9800 },
      { startMs: 12600, endMs: totalMs },
    ]);
    const chunks = planChunks(regions, probs, 9000);
    expect(chunks).toEqual([{ startMs: 1400, endMs: 9800 }, { startMs: 12600, endMs: totalMs }]);
    expect(planChunks(regions, probs, 5000)).toEqual(regions);
    for (const c of chunks) expect(c.endMs - c.startMs).toBeLessThanOrEqual(9000);
  });

  it('silence gives no region at all', () => {
    expect(speechRegions(probsOf([[0.05, 5000]]), 5000)).toEqual([]);
  });

  it('cuts speech longer than the limit at its least speech-like frame', () => {
    const probs = probsOf([[0.9, 3200], [0.6, 64], [0.9, 3200]]);
    const [region] = speechRegions(probs, probs.length * VAD_FRAME_MS, { padMs: 0 });
    const chunks = planChunks(region ? [region] : [], probs, 4000);
    expect(chunks[0]?.startMs).toBe(0);
    expect(chunks[0]?.endMs).toBeGreaterThanOrEqual(3200);
    expect(chunks[0]?.endMs).toBeLessThanOrEqual(3264);
    expect(chunks.every((c) => c.endMs - c.startMs <= 4000)).toBe(true);
  });
});

describe('rate limits', () => {
  it('shares the audio-seconds budget across workers and says how long to wait', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const a = new AudioBudget({ redis, prefix, audioSecondsPerHour: 10, windowMs: 60_000, now: clock });
    const b = new AudioBudget({ redis, prefix, audioSecondsPerHour: 10, windowMs: 60_000, now: clock });
    expect((await a.reserve('j1', 6000, 'batch')).waitMs).toBe(0);
    now += 10_000;
    expect((await b.reserve('j2', 3000, 'batch')).waitMs).toBe(0);
    now += 10_000;
    const refused = await b.reserve('j3', 4000, 'batch');
    expect(refused.waitMs).toBe(40_000); // j1's 6 s leave the window 60 s after it was taken
    expect(await a.usedMs()).toBe(9000);
    const taken = await a.reserve('j4', 1000, 'batch');
    expect(taken.waitMs).toBe(0);
    await taken.release();
    expect(await a.usedMs()).toBe(9000);
    now += 40_000;
    expect((await b.reserve('j3', 4000, 'batch')).waitMs).toBe(0);
    await expect(a.reserve('huge', 11_000, 'batch')).rejects.toThrow(RangeError);
  });
});

describe('progress line', () => {
  it('shows files, audio hours, throughput, ETA and failures', () => {
    const line = progressLine({ filesTotal: 10, filesDone: 4, filesFailed: 1, audioTotalMs: 7_200_000, audioDoneMs: 3_600_000, elapsedMs: 60_000 });
    expect(line).toBe('[############------------] 5/10 files · 1.00/2.00 h audio · 60.0× real time · ETA 1m00s · 1 failed');
  });
});
