// A generated folder of recordings for batch tests: espeak-ng pt-BR phrases in wav/mp3/ogg/flac/
// m4a at several rates, nested folders, odd names, an identical copy, silence, a text file, a
// corrupt file, a symlink out of the tree and a long file that needs several chunks. Each audio
// file is known by the phrases it says, in order, so transcripts can be checked word for word.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fixWavHeader } from '../../../src/shared/audio/wav.js';
import { speakPtBr } from '../../support/speech.js';

const run = promisify(execFile);

/** Lengths differ by well over the recogniser's tolerance, so each phrase is known by its length. */
export const PHRASES = [
  'olá',
  'a reunião começa às nove horas',
  'por favor envie o relatório até sexta feira à tarde sem falta',
  'hoje vamos falar sobre a previsão do tempo para amanhã em São Paulo e também no Rio de Janeiro',
] as const;

export interface TreeFile {
  relPath: string;
  /** Indexes into PHRASES, in the order spoken; empty: silence. */
  phrases: number[];
}

export interface SpeechTree {
  root: string;
  /** Audio files and what they say. */
  audio: TreeFile[];
  /** The long file (needs chunks). */
  long: TreeFile;
  /** Files that must be skipped / must fail. */
  skipped: string[];
  failed: string[];
  /** Identical to another file (transcribed once). */
  duplicateOf: Record<string, string>;
  cleanup(): Promise<void>;
}

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-y', ...args]);
}

async function phraseWav(dir: string, index: number): Promise<string> {
  const path = join(dir, `phrase-${index}.wav`);
  await writeFile(path, fixWavHeader(await speakPtBr(PHRASES[index] ?? '')));
  return path;
}

/** Phrases joined with `gapS` seconds of silence (and as much before and after), encoded as `codec` at `rateHz`. */
async function compose(work: string, out: string, phrases: number[], gapS: number, codecArgs: string[], rateHz: number): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const inputs: string[] = [];
  const filters: string[] = [];
  const silence = `anullsrc=r=22050:cl=mono`;
  let n = 0;
  const addSilence = () => {
    inputs.push('-f', 'lavfi', '-t', String(gapS), '-i', silence);
    filters.push(`[${n}:a]`);
    n += 1;
  };
  addSilence();
  for (const p of phrases) {
    inputs.push('-i', await phraseWav(work, p));
    filters.push(`[${n}:a]`);
    n += 1;
    addSilence();
  }
  await ffmpeg([...inputs, '-filter_complex', `${filters.join('')}concat=n=${n}:v=0:a=1,aresample=${rateHz}`, ...codecArgs, out]);
}

const CODECS: Record<string, { args: string[]; rate: number }> = {
  wav: { args: ['-c:a', 'pcm_s16le'], rate: 22050 },
  mp3: { args: ['-c:a', 'libmp3lame', '-q:a', '4'], rate: 44100 },
  ogg: { args: ['-c:a', 'libvorbis', '-q:a', '4'], rate: 48000 },
  opus: { args: ['-c:a', 'libopus', '-b:a', '48k', '-f', 'ogg'], rate: 48000 },
  flac: { args: ['-c:a', 'flac'], rate: 16000 },
  m4a: { args: ['-c:a', 'aac', '-b:a', '96k', '-f', 'ipod'], rate: 32000 },
  none: { args: ['-c:a', 'pcm_s16le', '-f', 'wav'], rate: 8000 },
};

/** One recording saying `phrases` (indexes into PHRASES), encoded as its extension says (none: WAV). */
export async function writeSpeechFile(path: string, phrases: number[]): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'voxq-speech-'));
  try {
    const ext = /\.([a-z0-9]+)$/.exec(path)?.[1] ?? 'none';
    const codec = CODECS[ext] ?? CODECS.none;
    if (!codec) throw new Error('no codec');
    await compose(work, path, phrases, phrases.length === 0 ? 3 : 0.8, codec.args, codec.rate);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function buildSpeechTree(options: { withLong?: boolean } = {}): Promise<SpeechTree> {
  const base = await mkdtemp(join(tmpdir(), 'voxq-batch-'));
  const root = join(base, 'gravações');
  const work = join(base, 'work');
  await mkdir(root, { recursive: true });
  await mkdir(work, { recursive: true });
  const audio: TreeFile[] = [
    { relPath: 'reunião de segunda/bom dia.wav', phrases: [1] },
    { relPath: 'a/b/ação é ótima.mp3', phrases: [2] },
    { relPath: 'c/arquivo ogg.ogg', phrases: [0, 1] },
    { relPath: 'c/deep/nested/x.flac', phrases: [3] },
    { relPath: 'm4a/som [1] (final).m4a', phrases: [2, 0] },
    { relPath: 'sem extensão', phrases: [1, 3] },
    { relPath: 'copia/dup.wav', phrases: [1] },
    { relPath: 'silêncio.wav', phrases: [] },
  ];
  const codecs = CODECS;
  for (const file of audio) {
    if (file.relPath === 'copia/dup.wav') continue;
    const ext = file.relPath.includes('.') ? (file.relPath.split('.').pop() ?? 'none') : 'none';
    const codec = codecs[ext] ?? codecs.none;
    if (!codec) throw new Error('no codec');
    await compose(work, join(root, file.relPath), file.phrases, file.phrases.length === 0 ? 3 : 0.8, codec.args, codec.rate);
  }
  await mkdir(join(root, 'copia'), { recursive: true });
  await copyFile(join(root, 'reunião de segunda/bom dia.wav'), join(root, 'copia/dup.wav'));

  const long: TreeFile = { relPath: 'longas/palestra longa.wav', phrases: [3, 1, 2, 0, 3, 2, 1] };
  if (options.withLong ?? true) {
    audio.push(long);
    await compose(work, join(root, long.relPath), long.phrases, 1.5, codecs.wav?.args ?? [], 16000);
  }

  await writeFile(join(root, 'notas.txt'), 'isto não é áudio\n'.repeat(50));
  const broken = new Uint8Array(4000);
  broken.set(Buffer.from('RIFF\xff\xff\xff\x7fWAVEfmt ', 'latin1'));
  await writeFile(join(root, 'quebrado.wav'), broken);
  await writeFile(join(base, 'fora.wav'), fixWavHeader(await speakPtBr(PHRASES[0])));
  await symlink(join(base, 'fora.wav'), join(root, 'link para fora.wav'));
  await rm(work, { recursive: true, force: true });
  return {
    root,
    audio,
    long,
    skipped: ['notas.txt', 'link para fora.wav'],
    failed: ['quebrado.wav'],
    duplicateOf: { 'copia/dup.wav': 'reunião de segunda/bom dia.wav' },
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}
