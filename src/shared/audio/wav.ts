// A minimal RIFF/WAVE (PCM) writer and reader, shared by the espeak-ng provider, the fake TTS
// and the tests. Only what voxq needs: 16-bit PCM out, any PCM header in.

export interface WavInfo {
  sampleRateHz: number;
  channels: number;
  bitsPerSample: number;
  /** 1 = integer PCM, 3 = float, 0xFFFE = extensible (its sub-format is not read). */
  formatTag: number;
  /** Audio bytes actually present (a declared size past the end of the file is clamped). */
  dataBytes: number;
  durationMs: number;
}

const HEADER_BYTES = 44;

/** Encodes interleaved 16-bit PCM samples as a canonical 44-byte-header WAV file. */
export function encodeWavPcm16(samples: Int16Array, sampleRateHz: number, channels = 1): Uint8Array {
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0) throw new RangeError('sampleRateHz must be a positive integer');
  if (!Number.isInteger(channels) || channels <= 0) throw new RangeError('channels must be a positive integer');
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(bytes.buffer);
  writeAscii(bytes, 0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  writeAscii(bytes, 8, 'WAVE');
  writeAscii(bytes, 12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * channels * 2, true); // byte rate
  view.setUint16(32, channels * 2, true); // block align
  view.setUint16(34, 16, true);
  writeAscii(bytes, 36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i += 1) view.setInt16(HEADER_BYTES + i * 2, samples[i] ?? 0, true);
  return bytes;
}

interface Layout {
  formatTag: number;
  sampleRateHz: number;
  channels: number;
  bitsPerSample: number;
  blockAlign: number;
  /** Offset of the data chunk's 8-byte header. */
  dataChunkOffset: number;
  declaredDataBytes: number;
  dataBytes: number;
}

function parse(bytes: Uint8Array): Layout | null {
  if (bytes.length < 12 || readAscii(bytes, 0) !== 'RIFF' || readAscii(bytes, 8) !== 'WAVE') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: Pick<Layout, 'formatTag' | 'sampleRateHz' | 'channels' | 'bitsPerSample' | 'blockAlign'> | null = null;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = readAscii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) return null;
      fmt = {
        formatTag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRateHz: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.channels === 0 || fmt.sampleRateHz === 0 || fmt.blockAlign === 0) return null;
      const present = bytes.length - body;
      const clamped = Math.min(size, present);
      const dataBytes = clamped - (clamped % fmt.blockAlign);
      return { ...fmt, dataChunkOffset: offset, declaredDataBytes: size, dataBytes };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  return null;
}

/** Reads a WAV header; null when the bytes are not a WAV with a `fmt ` and a `data` chunk. */
export function readWavInfo(bytes: Uint8Array): WavInfo | null {
  const layout = parse(bytes);
  if (!layout) return null;
  const { formatTag, sampleRateHz, channels, bitsPerSample, blockAlign, dataBytes } = layout;
  const frames = dataBytes / blockAlign;
  return { formatTag, sampleRateHz, channels, bitsPerSample, dataBytes, durationMs: (frames / sampleRateHz) * 1000 };
}

/** The 16-bit PCM samples of a WAV file (null when it is not 16-bit integer PCM). */
export function readWavPcm16(bytes: Uint8Array): Int16Array | null {
  const layout = parse(bytes);
  if (!layout || layout.formatTag !== 1 || layout.bitsPerSample !== 16) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + layout.dataChunkOffset + 8, layout.dataBytes);
  const samples = new Int16Array(layout.dataBytes / 2);
  for (let i = 0; i < samples.length; i += 1) samples[i] = view.getInt16(i * 2, true);
  return samples;
}

/**
 * Returns a copy whose RIFF and data sizes match the bytes present. espeak-ng streaming to
 * stdout cannot seek back, so it writes placeholder sizes (0x7FFFFFFF-ish); players and ffprobe
 * then report no or absurd durations. Audio after the data chunk's real end is dropped, and a
 * trailing partial frame is trimmed.
 */
export function fixWavHeader(bytes: Uint8Array): Uint8Array {
  const layout = parse(bytes);
  if (!layout) throw new TypeError('not a WAV file with fmt and data chunks');
  const end = layout.dataChunkOffset + 8 + layout.dataBytes;
  const fixed = bytes.slice(0, end);
  const view = new DataView(fixed.buffer);
  view.setUint32(4, end - 8, true);
  view.setUint32(layout.dataChunkOffset + 4, layout.dataBytes, true);
  return fixed;
}

function writeAscii(bytes: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i += 1) bytes[offset + i] = text.charCodeAt(i);
}

function readAscii(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset] ?? 0, bytes[offset + 1] ?? 0, bytes[offset + 2] ?? 0, bytes[offset + 3] ?? 0);
}
