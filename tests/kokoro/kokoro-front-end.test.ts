// What the worker's event loop is left with during a Kokoro synthesis: espeak-ng and ffmpeg start
// from the front-end process (a fork of the worker itself, big with the model, would stall every
// thread of it), and the synthesis thread hands back the finished WAV, byte for byte what the same
// steps give on the calling thread.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSpeech } from '../../src/shared/audio/encode-speech.js';
import { joinSpeech } from '../../src/shared/audio/join-speech.js';
import { EspeakG2P } from '../../src/shared/providers/kokoro/espeak-g2p.js';
import { KokoroFrontEnd } from '../../src/shared/providers/kokoro/front-end.js';
import { KOKORO_SAMPLE_RATE_HZ, loadKokoro } from '../../src/shared/providers/kokoro/kokoro-model.js';
import { KokoroTtsProvider } from '../../src/shared/providers/kokoro/kokoro-tts.js';
import { hasPhonemes, toInputIds, tokenizePhonemes } from '../../src/shared/providers/kokoro/kokoro-vocab.js';
import { splitPhonemes } from '../../src/shared/providers/kokoro/phoneme-chunks.js';
import { makeKokoroFolder, type KokoroFolder } from '../support/kokoro/kokoro-folder.js';
import { rejection } from '../support/provider-calls.js';

/** Past 510 phoneme tokens: several pieces, joined. English, so no read-aloud rewriting comes first. */
const LONG = 'I like to talk with you about the weather and about travelling. '.repeat(16);
const EN_US = { voice: 'af_heart', language: 'en-US', speed: 1 };

let folder: KokoroFolder;
let dir: string;
/** espeak-ng that first writes who started it (its parent's pid) to a file. */
let tellingEspeak: string;
let parentFile: string;
/** espeak-ng that writes its own pid, then hangs. */
let hangingEspeak: string;
let hangingPidFile: string;
beforeAll(async () => {
  folder = await makeKokoroFolder({ layers: 1 });
  dir = mkdtempSync(join(tmpdir(), 'voxq-front-end-'));
  parentFile = join(dir, 'parent');
  hangingPidFile = join(dir, 'hanging-pid');
  tellingEspeak = join(dir, 'telling-espeak');
  writeFileSync(tellingEspeak, `#!/bin/sh\necho $PPID > '${parentFile}'\nexec espeak-ng "$@"\n`);
  hangingEspeak = join(dir, 'hanging-espeak');
  writeFileSync(hangingEspeak, `#!/bin/sh\necho $$ > '${hangingPidFile}'\nexec sleep 30\n`);
  chmodSync(tellingEspeak, 0o755);
  chmodSync(hangingEspeak, 0o755);
});
afterAll(async () => {
  await folder?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const model = () => ({ model: 'local', modelDir: folder.dir, cacheDir: join(folder.dir, 'cache'), dtype: 'q8' as const, intraOpThreads: 1 });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or `timeoutMs` passes (a process's end is seen through /proc, not an event). */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The parent pid of `pid`, from /proc (field 4 of stat, after the parenthesised name). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('Kokoro audio off the event loop', () => {
  it('is byte for byte what the same steps give on this thread: G2P, pieces, inference, joining, WAV', async () => {
    const phonemes = await new EspeakG2P({ language: 'en-us' }).phonemize(LONG);
    const tts = await loadKokoro({ ...model(), device: 'cpu' });
    const { Tensor } = await import('@huggingface/transformers');
    const pieces: Float32Array[] = [];
    for (const chunk of splitPhonemes(phonemes)) {
      const { ids } = tokenizePhonemes(chunk);
      if (!hasPhonemes(ids)) continue;
      const input = toInputIds(ids);
      const audio = await tts.generate_from_ids(new Tensor('int64', BigInt64Array.from(input, (id) => BigInt(id)), [1, input.length]), { voice: 'af_heart', speed: 1 });
      pieces.push(audio.audio);
    }
    await tts.model.dispose();
    expect(pieces.length).toBeGreaterThan(1);
    const samples = joinSpeech(pieces, { sampleRateHz: KOKORO_SAMPLE_RATE_HZ });
    const expected = await encodeSpeech(samples, KOKORO_SAMPLE_RATE_HZ, 'wav');

    const threaded = new KokoroTtsProvider({ model: model(), device: 'cpu', threads: 1 });
    const inline = new KokoroTtsProvider({ model: model(), device: 'cpu', threads: 0 });
    try {
      const fromThread = await threaded.synthesize(LONG, EN_US);
      expect(Buffer.from(fromThread.bytes).equals(Buffer.from(expected))).toBe(true);
      expect(fromThread.durationMs).toBe(Math.round((samples.length / KOKORO_SAMPLE_RATE_HZ) * 1000));
      const onLoop = await inline.synthesize(LONG, EN_US);
      expect(Buffer.from(onLoop.bytes).equals(Buffer.from(expected))).toBe(true);
    } finally {
      await Promise.all([threaded.close(), inline.close()]);
    }
  }, 60_000);

  it('espeak-ng is started by the front-end process, never forked from the worker; close ends that process', async () => {
    const provider = new KokoroTtsProvider({ model: model(), device: 'cpu', espeakBinary: tellingEspeak });
    let frontEnd: number;
    try {
      await provider.synthesize('Bom dia.', { voice: 'pf_dora', language: 'pt-BR', speed: 1 });
      frontEnd = Number(readFileSync(parentFile, 'utf8'));
      expect(frontEnd).not.toBe(process.pid);
      expect(parentOf(frontEnd)).toBe(process.pid);
    } finally {
      await provider.close();
    }
    expect(alive(frontEnd)).toBe(false);
  }, 30_000);
});

describe('the front-end process', () => {
  it('kills espeak-ng when the call is aborted', async () => {
    const frontEnd = new KokoroFrontEnd({ espeakBinary: hangingEspeak });
    try {
      rmSync(hangingPidFile, { force: true });
      const controller = new AbortController();
      const pending = frontEnd.phonemize('pt-br', 'Olá', controller.signal);
      expect(await eventually(() => existsSync(hangingPidFile) && readFileSync(hangingPidFile, 'utf8').trim() !== '')).toBe(true);
      const espeak = Number(readFileSync(hangingPidFile, 'utf8'));
      controller.abort();
      expect((await rejection(pending)).kind).toBe('aborted');
      expect(await eventually(() => !alive(espeak))).toBe(true);
    } finally {
      await frontEnd.close();
    }
  }, 30_000);

  it('keeps the kind of espeak-ng errors, and a process that died is replaced by the next call', async () => {
    const missing = new KokoroFrontEnd({ espeakBinary: join(dir, 'no-such-espeak') });
    const frontEnd = new KokoroFrontEnd({ espeakBinary: tellingEspeak });
    try {
      const error = await rejection(missing.phonemize('pt-br', 'Olá'));
      expect(error).toMatchObject({ kind: 'connection', retryable: true });
      expect(error.message).toContain('espeak-ng is not available');
      expect(await frontEnd.phonemize('pt-br', 'Olá')).toBe('olˈa');
      const first = Number(readFileSync(parentFile, 'utf8'));
      process.kill(first, 'SIGKILL');
      expect(await eventually(() => !alive(first))).toBe(true);
      expect(await frontEnd.phonemize('pt-br', 'Olá')).toBe('olˈa');
      expect(Number(readFileSync(parentFile, 'utf8'))).not.toBe(first);
    } finally {
      await Promise.all([missing.close(), frontEnd.close()]);
    }
  }, 30_000);
});
