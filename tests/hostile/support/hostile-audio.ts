// Audio made to hurt: generated with ffmpeg into a temp folder once per test file. Decompression
// bombs (hours of silence in a few KB), a FLAC whose header understates its length, playlists and
// reference files that point at other files or at a local HTTP server, and broken or wrong bytes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args]);
}

/** A named pipe: a reader that opens it blocks until a writer comes. */
export async function mkfifo(path: string): Promise<void> {
  await run('mkfifo', [path]);
}

/** A local HTTP server that counts the requests it gets (it must get none). */
export interface CountingServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function countingServer(): Promise<CountingServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface HostileAudio {
  dir: string;
  /** A second of a 440 Hz tone, 16 kHz mono WAV: a real file the playlists point at. */
  tone: string;
  /** 2 h of silence: FLAC at 1 kHz (≈ 10 KB). */
  flacBomb2h: string;
  /** 10 h of silence: FLAC at 1 kHz (≈ 16 KB), over the batch limit too. */
  flacBomb10h: string;
  /** 15 min of silence: Ogg Opus at 6 kb/s with 120 ms frames (≈ 140 KB). */
  opusBomb15min: string;
  /** The 2 h FLAC whose header says 1 s: passes any probe, decodes to 2 h. */
  lyingFlac: string;
  /** A valid FLAC header (1 s) over garbled frames: probes fine, decodes to nothing. */
  garbledFlac: string;
  /** `ffconcat` listing the tone by its absolute path and by its name. */
  concatAbsolute: string;
  concatRelative: string;
  /** HLS playlists: one whose segment is on the counting server, one whose segment is a local file. */
  hlsRemote: string;
  hlsLocal: string;
  /** An SDP session description (RTP on a local port). */
  sdp: string;
  /** A video-only MP4 (no audio track), a PNG picture, a JSON document. */
  videoOnly: string;
  png: string;
  json: string;
  /** The tone as Ogg Vorbis cut to its first 200 bytes, and as M4A missing its second half (no moov). */
  truncatedOgg: string;
  truncatedM4a: string;
  /** The tone as AIFF: audio, but not a container a turn accepts. */
  aiff: string;
  cleanup(): Promise<void>;
}

/** `decodeOnly`: just what a decoder is tested with (the tone, the lying and the garbled FLAC; the others are left out). */
export async function makeHostileAudio(server: CountingServer, options: { decodeOnly?: boolean } = {}): Promise<HostileAudio> {
  const dir = await mkdtemp(join(tmpdir(), 'voxq-hostile-'));
  const at = (name: string) => join(dir, name);
  const silence = (rate: number, seconds: number) => ['-f', 'lavfi', '-i', `anullsrc=r=${rate}:cl=mono`, '-t', String(seconds)];
  const tone = at('tone.wav');
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=f=440:r=16000', '-t', '1', '-ac', '1', tone]);
  const all = !options.decodeOnly;
  await Promise.all([
    ffmpeg([...silence(1000, 7200), '-c:a', 'flac', '-frame_size', '65535', at('bomb-2h.flac')]),
    ffmpeg(['-i', tone, '-c:a', 'flac', at('tone.flac')]),
  ]);
  if (all) {
    await Promise.all([
      ffmpeg([...silence(1000, 36_000), '-c:a', 'flac', '-frame_size', '65535', at('bomb-10h.flac')]),
      ffmpeg([...silence(8000, 900), '-c:a', 'libopus', '-b:a', '6k', '-frame_duration', '120', at('bomb-15min.opus')]),
      ffmpeg(['-i', tone, '-c:a', 'libvorbis', at('tone.ogg')]),
      ffmpeg(['-i', tone, '-c:a', 'aac', at('tone.m4a')]),
      ffmpeg(['-i', tone, at('tone.aiff')]),
      ffmpeg(['-i', tone, '-c:a', 'aac', '-f', 'mpegts', at('segment.ts')]),
      ffmpeg(['-f', 'lavfi', '-i', 'color=c=black:s=64x64:r=10', '-t', '1', '-c:v', 'mpeg4', at('video-only.mp4')]),
      ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=8x8', '-frames:v', '1', at('picture.png')]),
    ]);
  }

  // The header of the 2 h bomb says 1 s: STREAMINFO's 36-bit total-samples field (bits 4..39 from byte 21) := 1000.
  const lying = Buffer.from(await readFile(at('bomb-2h.flac')));
  lying[21] = (lying[21] ?? 0) & 0xf0;
  lying.writeUInt32BE(1000, 22);
  await writeFile(at('lying.flac'), lying);

  const garbled = Buffer.from(await readFile(at('tone.flac')));
  for (let i = 200; i < garbled.length; i += 1) garbled[i] = (i * 7919) & 0xff;
  await writeFile(at('garbled.flac'), garbled);

  if (all) {
    const ogg = await readFile(at('tone.ogg'));
    await writeFile(at('truncated.ogg'), ogg.subarray(0, 200));
    const m4a = await readFile(at('tone.m4a'));
    await writeFile(at('truncated.m4a'), m4a.subarray(0, Math.floor(m4a.length / 2)));
  }

  await writeFile(at('absolute.ffconcat'), `ffconcat version 1.0\nfile '${tone}'\n`);
  await writeFile(at('relative.ffconcat'), `ffconcat version 1.0\nfile 'tone.wav'\nfile 'tone.wav'\n`);
  const hls = (segment: string) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n${segment}\n#EXT-X-ENDLIST\n`;
  await writeFile(at('remote.m3u8'), hls(`${server.url}/segment.ts`));
  await writeFile(at('local.m3u8'), hls(at('segment.ts')));
  await writeFile(at('session.sdp'), 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=voxq\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n');
  await writeFile(at('document.json'), JSON.stringify({ audio: 'not really', url: `${server.url}/x.wav` }));

  return {
    dir,
    tone,
    flacBomb2h: at('bomb-2h.flac'),
    flacBomb10h: at('bomb-10h.flac'),
    opusBomb15min: at('bomb-15min.opus'),
    lyingFlac: at('lying.flac'),
    garbledFlac: at('garbled.flac'),
    concatAbsolute: at('absolute.ffconcat'),
    concatRelative: at('relative.ffconcat'),
    hlsRemote: at('remote.m3u8'),
    hlsLocal: at('local.m3u8'),
    sdp: at('session.sdp'),
    videoOnly: at('video-only.mp4'),
    png: at('picture.png'),
    json: at('document.json'),
    truncatedOgg: at('truncated.ogg'),
    truncatedM4a: at('truncated.m4a'),
    aiff: at('tone.aiff'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

type AudioFile = Exclude<keyof HostileAudio, 'dir' | 'cleanup'>;

/** What a turn's entry refuses, and with which code. */
export const TURN_REFUSALS: readonly (readonly [name: string, file: AudioFile, code: string])[] = [
  ['a 2 h FLAC bomb (10 KB)', 'flacBomb2h', 'audio_too_long'],
  ['a 10 h FLAC bomb (16 KB)', 'flacBomb10h', 'audio_too_long'],
  ['a 15 min Opus bomb (140 KB)', 'opusBomb15min', 'audio_too_long'],
  ['an ffconcat with an absolute path', 'concatAbsolute', 'audio_unsupported_container'],
  ['an ffconcat with a relative path', 'concatRelative', 'audio_unsupported_container'],
  ['an HLS playlist pointing at a local HTTP server', 'hlsRemote', 'audio_unsupported_container'],
  ['an HLS playlist pointing at a local file', 'hlsLocal', 'audio_unsupported_container'],
  ['an SDP session description', 'sdp', 'audio_unsupported_container'],
  ['AIFF (audio, not a turn container)', 'aiff', 'audio_unsupported_container'],
  ['a video-only MP4', 'videoOnly', 'audio_not_audio'],
  ['a PNG picture', 'png', 'audio_not_audio'],
  ['a JSON document', 'json', 'audio_not_audio'],
  ['an Ogg cut to 200 bytes', 'truncatedOgg', 'audio_corrupt'],
  ['an M4A missing its second half', 'truncatedM4a', 'audio_corrupt'],
];
