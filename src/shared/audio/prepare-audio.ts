// Preparation of one file for batch transcription: ffmpeg decodes it to 16 kHz mono float while
// Silero VAD reads the frames already decoded (decoding and VAD overlap: ffmpeg is another
// process), then the speech regions are cut into chunks under the provider's limits, each a
// 16-bit WAV of exactly [startMs, endMs) of the decoded audio.
import { spawn } from 'node:child_process';
import { endianness } from 'node:os';
import { InputError, VoxqError } from '../errors.js';
import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE_HZ, type SileroVad } from './silero-vad.js';
import { planChunks, speechRegions, type SpeechOptions, type SpeechRegion } from './speech-chunks.js';
import { encodeWavPcm16 } from './wav.js';

const WAV_HEADER_BYTES = 44;
const BYTES_PER_MS = (VAD_SAMPLE_RATE_HZ * 2) / 1000;
const LITTLE_ENDIAN = endianness() === 'LE';

export interface PrepareOptions {
  vad: SileroVad;
  /** Longest chunk (default 600 000 ms). */
  maxChunkMs?: number;
  /** Largest chunk file (default Groq's 25 MB); lowers maxChunkMs when needed. */
  maxChunkBytes?: number;
  speech?: SpeechOptions;
  ffmpeg?: string;
  /** The probed duration: sizes the decode buffer. */
  expectedDurationMs?: number;
}

export interface PreparedChunk extends SpeechRegion {
  index: number;
  wav: Uint8Array;
}

export interface PreparedAudio {
  durationMs: number;
  speechMs: number;
  regions: SpeechRegion[];
  chunks: PreparedChunk[];
}

export interface DecodedAudio {
  samples: Float32Array;
  probs: Float32Array;
}

/** Decodes to 16 kHz mono and runs the VAD on the frames as they arrive. */
export async function decodeWithVad(path: string, vad: SileroVad | undefined, ffmpeg = 'ffmpeg', expectedDurationMs?: number): Promise<DecodedAudio> {
  const child = spawn(ffmpeg, ['-v', 'error', '-nostdin', '-i', path, '-vn', '-ac', '1', '-ar', String(VAD_SAMPLE_RATE_HZ), '-f', 'f32le', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Sized from the probed length when known (plus a little), so the buffer is rarely copied.
  let bytes = new Uint8Array(expectedDurationMs ? Math.ceil(expectedDurationMs * 1.02 + 1000) * 64 : 1 << 20);
  let length = 0;
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    if (length + chunk.length > bytes.length) {
      let capacity = bytes.length * 2;
      while (capacity < length + chunk.length) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(bytes.subarray(0, length));
      bytes = grown;
    }
    bytes.set(chunk, length);
    length += chunk.length;
    wake?.();
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.on('error', (cause) => {
    failure = new VoxqError('ffmpeg_unavailable', 'ffmpeg could not be started; install ffmpeg', { cause });
    done = true;
    wake?.();
  });
  child.on('close', (code) => {
    if (code !== 0 && !failure) {
      const detail = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0]?.slice(0, 200) ?? '';
      failure = new InputError('audio_corrupt', `ffmpeg could not decode the audio: ${detail || `exit ${String(code)}`}`);
    }
    done = true;
    wake?.();
  });

  const probs: number[] = [];
  vad?.reset();
  let frames = 0;
  for (;;) {
    const available = Math.floor(length / 4);
    if (vad && (frames + 1) * VAD_FRAME_SAMPLES <= available) {
      // A fresh view each time: the buffer may have grown (and moved) meanwhile.
      probs.push(await vad.frame(new Float32Array(bytes.buffer, frames * VAD_FRAME_SAMPLES * 4, VAD_FRAME_SAMPLES)));
      frames += 1;
      continue;
    }
    if (done) break;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
  if (failure) throw failure;
  const samples = new Float32Array(bytes.buffer, 0, Math.floor(length / 4));
  if (vad && frames * VAD_FRAME_SAMPLES < samples.length) {
    const last = new Float32Array(VAD_FRAME_SAMPLES);
    last.set(samples.subarray(frames * VAD_FRAME_SAMPLES));
    probs.push(await vad.frame(last));
  }
  return { samples, probs: Float32Array.from(probs) };
}

export async function prepareAudio(path: string, options: PrepareOptions): Promise<PreparedAudio> {
  const { samples, probs } = await decodeWithVad(path, options.vad, options.ffmpeg, options.expectedDurationMs);
  if (samples.length === 0) throw new InputError('audio_corrupt', 'the file decodes to no audio at all');
  return cutChunks(samples, probs, options);
}

/** Regions → chunks → WAV bytes (the part after decoding and VAD). */
export function cutChunks(samples: Float32Array, probs: Float32Array, options: Omit<PrepareOptions, 'vad'>): PreparedAudio {
  const durationMs = Math.floor((samples.length * 1000) / VAD_SAMPLE_RATE_HZ);
  const regions = speechRegions(probs, durationMs, options.speech);
  const byBytes = Math.floor(((options.maxChunkBytes ?? 25 * 1024 * 1024) - WAV_HEADER_BYTES) / BYTES_PER_MS);
  const maxChunkMs = Math.max(1000, Math.min(options.maxChunkMs ?? 600_000, byBytes));
  const chunks = planChunks(regions, probs, maxChunkMs).map((chunk, index) => ({
    ...chunk,
    index,
    wav: wavOf(samples, chunk),
  }));
  return { durationMs, speechMs: regions.reduce((n, r) => n + (r.endMs - r.startMs), 0), regions, chunks };
}

function wavOf(samples: Float32Array, region: SpeechRegion): Uint8Array {
  const from = (region.startMs * VAD_SAMPLE_RATE_HZ) / 1000;
  const to = Math.min(samples.length, (region.endMs * VAD_SAMPLE_RATE_HZ) / 1000);
  const pcm = new Int16Array(to - from);
  for (let i = 0; i < pcm.length; i += 1) {
    const v = (samples[from + i] ?? 0) * 32767;
    pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
  }
  if (!LITTLE_ENDIAN) return encodeWavPcm16(pcm, VAD_SAMPLE_RATE_HZ, 1);
  // The header of an empty WAV, its sizes set, then the samples' bytes as they are (WAV is little-endian).
  const bytes = new Uint8Array(WAV_HEADER_BYTES + pcm.byteLength);
  bytes.set(encodeWavPcm16(new Int16Array(0), VAD_SAMPLE_RATE_HZ, 1));
  const view = new DataView(bytes.buffer);
  view.setUint32(4, 36 + pcm.byteLength, true);
  view.setUint32(40, pcm.byteLength, true);
  bytes.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), WAV_HEADER_BYTES);
  return bytes;
}
