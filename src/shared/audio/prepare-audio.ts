// Preparation of one file for batch transcription: ffmpeg decodes it to 16 kHz mono float while
// Silero VAD reads the frames already decoded (decoding and VAD overlap: ffmpeg is another
// process), then the speech regions are cut into chunks under the provider's limits, each a
// 16-bit WAV of exactly [startMs, endMs) of the decoded audio. ffmpeg reads only that file, with
// the demuxer allow-list of audio-limits.ts, and stops past the length limit: a file whose header
// understates its length fails `audio_too_long` instead of filling memory.
import { spawn } from 'node:child_process';
import { endianness } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { InputError, VoxqError } from '../errors.js';
import { DECODE_SLACK_MS, fileUrl, inputGuard, MAX_BATCH_AUDIO_MS, refusedDemuxer, SAFE_DEMUXERS, tooLong, unsupportedContainer } from './audio-limits.js';
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
  /** Audio that decodes to more is refused with `audio_too_long` (default MAX_BATCH_AUDIO_MS). */
  maxDurationMs?: number;
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

/**
 * Decodes to 16 kHz mono and runs the VAD on the frames as they arrive. Throws InputError
 * `audio_corrupt`, `audio_unsupported_container` or `audio_too_long` (more than `maxDurationMs`
 * decoded, whatever the header said).
 */
export async function decodeWithVad(
  path: string,
  vad: SileroVad | undefined,
  ffmpeg = 'ffmpeg',
  expectedDurationMs?: number,
  maxDurationMs = MAX_BATCH_AUDIO_MS,
): Promise<DecodedAudio> {
  const stopAtMs = maxDurationMs + DECODE_SLACK_MS;
  const args = [
    '-v', 'error', '-nostdin', ...inputGuard('file', SAFE_DEMUXERS), '-i', fileUrl(resolvePath(path)),
    '-vn', '-ac', '1', '-ar', String(VAD_SAMPLE_RATE_HZ), '-t', String(stopAtMs / 1000), '-f', 'f32le', 'pipe:1',
  ];
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Sized from the probed length when known (plus a little), so the buffer is rarely copied;
  // never past the limit, whatever the probe said.
  const maxBytes = Math.ceil((stopAtMs * VAD_SAMPLE_RATE_HZ) / 1000) * 4;
  let bytes = new Uint8Array(expectedDurationMs ? Math.min(maxBytes, Math.ceil(expectedDurationMs * 1.02 + 1000) * 64) : 1 << 20);
  let length = 0;
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    if (failure) return;
    if (length + chunk.length > maxBytes) {
      // Only a decoder that ignores -t gets here: stop it rather than hold more.
      failure = tooLong(maxDurationMs, maxDurationMs, 'decoded');
      child.kill('SIGKILL');
      return;
    }
    if (length + chunk.length > bytes.length) {
      let capacity = bytes.length * 2;
      while (capacity < length + chunk.length) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, maxBytes));
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
      const text = Buffer.concat(stderr).toString('utf8');
      const refused = refusedDemuxer(text);
      const detail = text.trim().split('\n')[0]?.slice(0, 200) ?? '';
      failure =
        (refused === undefined ? undefined : unsupportedContainer(refused, SAFE_DEMUXERS)) ??
        new InputError('audio_corrupt', `ffmpeg could not decode the audio: ${detail || `exit ${String(code)}`}`);
    }
    if (!failure && (length / 4 / VAD_SAMPLE_RATE_HZ) * 1000 > maxDurationMs) failure = tooLong(maxDurationMs, maxDurationMs, 'decoded');
    done = true;
    wake?.();
  });

  const probs: number[] = [];
  vad?.reset();
  let frames = 0;
  for (;;) {
    const available = Math.floor(length / 4);
    // Once failed, no more VAD work: only wait for ffmpeg to exit (no child outlives the call).
    if (!failure && vad && (frames + 1) * VAD_FRAME_SAMPLES <= available) {
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
  const { samples, probs } = await decodeWithVad(path, options.vad, options.ffmpeg, options.expectedDurationMs, options.maxDurationMs);
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
