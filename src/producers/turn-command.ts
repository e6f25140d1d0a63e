// `voxq turn`: sends one turn (audio file or text) and prints what came back.
import { readFile, writeFile } from 'node:fs/promises';
import { InputError } from '../shared/errors.js';
import { startTracing } from '../shared/telemetry/tracing.js';
import { formatTurnResult } from './print-result.js';
import { connect } from './sdk/connect.js';

export interface TurnCommandOptions {
  audio?: string;
  text?: string;
  session?: string;
  user: string;
  voice?: string;
  language?: string;
  out?: string;
  timeoutMs: number;
}

export async function runTurnCommand(options: TurnCommandOptions): Promise<void> {
  if ((options.audio === undefined) === (options.text === undefined)) {
    throw new InputError('invalid_arguments', 'give exactly one of --audio FILE or --text TEXT');
  }
  const audio = options.audio ? await readAudioFile(options.audio) : undefined;
  const tracing = startTracing('voxq-cli');
  const client = await connect({ tracing, resultTimeoutMs: options.timeoutMs });
  try {
    const sessionId = options.session ?? (await client.createSession(options.user, { source: 'voxq turn' })).sessionId;
    const handle = await client.enqueueTurn({
      sessionId,
      ...(audio ? { audio } : { text: options.text ?? '' }),
      ...(options.voice ? { voice: options.voice } : {}),
      ...(options.language ? { language: options.language } : {}),
    });
    process.stderr.write(`turn ${handle.turnId} queued; waiting…\n`);
    const result = await handle.result({ timeoutMs: options.timeoutMs });
    process.stdout.write(`${formatTurnResult(result)}\n`);
    if (options.out) {
      await writeFile(options.out, result.replyAudio.bytes);
      process.stdout.write(`saved:      ${options.out}\n`);
    }
  } finally {
    await client.close();
  }
}

async function readAudioFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not an audio file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unknown error');
    throw new InputError('audio_unreadable', `cannot read ${path}: ${why}`);
  }
}
