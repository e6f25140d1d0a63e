#!/usr/bin/env node
// The `voxq` command. Each subcommand lives beside what it drives; this file only wires them.
import { Command, InvalidArgumentError } from 'commander';
import { VoxqError } from './shared/errors.js';
import { VOXQ_VERSION } from './shared/version.js';
import { runDemo } from './producers/demo.js';
import { runTurnCommand } from './producers/turn-command.js';
import { runWorkerCommand } from './workers/worker-command.js';
import { runApiCommand } from './producers/http/api-command.js';
import { runKeysCreate, runKeysList, runKeysRevoke, type KeysCreateOptions } from './producers/http/keys-command.js';
import { runGpusCommand } from './shared/gpu/gpus-command.js';
import { runTranscribeCommand, type TranscribeCommandOptions } from './producers/batch/transcribe-command.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

const program = new Command()
  .name('voxq')
  .description('Durable voice-assistant turns: STT → LLM → TTS on BullMQ queues, recorded in MongoDB, traced with OpenTelemetry.')
  .version(VOXQ_VERSION)
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Configuration comes from the environment (REDIS_URL, MONGO_URL, VOXQ_STT/LLM/TTS, GROQ_API_KEY …);
the README lists every variable. Logs go to stderr; results to stdout.

Examples:
  $ voxq demo                                   # one real turn on this machine
  $ voxq worker --stages stt,llm,tts --concurrency 4
  $ voxq worker --stages tts --gpu 1             # pinned to GPU 1, reserving its memory
  $ VOXQ_TTS=kokoro voxq worker --stages tts     # Kokoro's pf_dora voice (downloads the model once)
  $ voxq gpus                                   # the cluster's GPUs and voxq's reservations
  $ voxq turn --audio pergunta.wav --out resposta.wav
  $ voxq turn --text "Que horas são?" --session sess_…
  $ voxq transcribe ./recordings --out ./transcripts --format srt,vtt,json,txt
  $ voxq keys create --scopes turns:read,turns:write --name my-app
  $ voxq api --port 8080                        # API + Bull Board + /metrics`,
  );

program
  .command('worker')
  .description('run stage workers until SIGTERM, which hands their active jobs back to the queues at once (a second SIGTERM forces)')
  .option('--stages <list>', 'comma-separated stages to run: stt, llm, tts', 'stt,llm,tts')
  .option('--concurrency <n>', 'jobs at once per stage', positiveInt, 4)
  .option('--gpu <N|UUID|all>', 'pin to a GPU (nvidia-smi index or uuid; all: one worker process per card) and reserve its memory per job')
  .action((options: { stages: string; concurrency: number; gpu?: string }) => runWorkerCommand(options));

program
  .command('gpus')
  .description("every GPU of the cluster: host, index, uuid, name, total/used/free MB and voxq's reservations")
  .option('--json', 'print JSON instead of a table')
  .action((options: { json?: boolean }) => runGpusCommand(options));

program
  .command('turn')
  .description('send one turn (audio file or text) and print the transcription, reply and timings')
  .option('--audio <file>', 'an audio file in any format ffmpeg reads (25 MB at most)')
  .option('--text <text>', 'text instead of audio (skips speech-to-text)')
  .option('--session <id>', 'an existing session id (default: a new session)')
  .option('--user <id>', 'user id for a new session', 'cli-user')
  .option('--voice <name>', 'TTS voice (default VOXQ_VOICE, pf_dora)')
  .option('--language <tag>', 'BCP-47 language (default VOXQ_LANGUAGE, pt-BR)')
  .option('--out <file>', 'write the reply audio here')
  .option('--timeout-ms <ms>', 'how long to wait for the result', positiveInt, 120_000)
  .action((options: { audio?: string; text?: string; session?: string; user: string; voice?: string; language?: string; out?: string; timeoutMs: number }) =>
    runTurnCommand(options),
  );

program
  .command('demo')
  .description('run a real turn end to end here: workers + SDK + a sample pt-BR recording (fakes for STT/LLM without GROQ_API_KEY)')
  .option('--audio <file>', 'your own recording instead of the bundled sample')
  .option('--out <file>', 'where to write the reply audio', 'voxq-demo-reply.wav')
  .option('--timeout-ms <ms>', 'how long to wait for each turn', positiveInt, 120_000)
  .action((options: { audio?: string; out: string; timeoutMs: number }) => runDemo(options));

program
  .command('transcribe')
  .description('transcribe every audio file of a folder tree (mirrored under --out), resumable; exit 1 if any file failed, 130 if interrupted, 2 if the folders cannot be used')
  .argument('<folder>', 'the folder to walk (recursively; audio is recognised by its content)')
  .requiredOption('--out <folder>', 'where the transcripts go (the input tree mirrored, x.wav → x.wav.srt; may be the input folder; voxq never overwrites a file it did not write)')
  .option('--format <list>', 'comma-separated: srt, vtt, json, txt', 'srt,vtt,json,txt')
  .option('--language <tag>', 'BCP-47 language (default VOXQ_LANGUAGE, pt-BR)')
  .option('--workers <n>', 'STT jobs at once in this process (0: only `voxq worker` hosts transcribe)', (v) => (v === '0' ? 0 : positiveInt(v)), 2)
  .option('--max-chunk-seconds <s>', 'longest piece sent to the provider (default 600)', positiveInt)
  .option('--no-progress', 'no progress bar on stderr')
  .action((folder: string, options: TranscribeCommandOptions) => runTranscribeCommand(folder, options));

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port number (0 picks a free one)');
  return n;
}

program
  .command('api')
  .description('serve the HTTP API, Bull Board (/admin/queues), /metrics, /healthz and /readyz on one port until SIGTERM')
  .option('--port <n>', 'port to listen on (default VOXQ_API_PORT, 8080)', port)
  .option('--host <address>', 'address to listen on (default VOXQ_API_HOST, 127.0.0.1)')
  .action((options: { port?: number; host?: string }) => runApiCommand(options));

const keys = program.command('keys').description('API keys for the HTTP API and Bull Board (stored hashed in MongoDB)');
keys
  .command('create')
  .description('create a key and print it once on stdout')
  .requiredOption('--scopes <list>', 'comma-separated: turns:read, turns:write, metrics:read, board:read, board:admin')
  .option('--name <name>', 'a label to recognise the key by')
  .option('--user <userId>', "bind the key to one user: it sees only that user's sessions (404 for others') and creates sessions for it only")
  .option('--tenant <tenant>', 'bind the key to one tenant: it sees only sessions whose metadata.tenant is it; its new sessions get it')
  .option('--rpm <n>', 'requests per minute the key may make (429 rate_limited over it)', positiveInt)
  .option('--max-turns-in-flight <n>', 'turns the key may have submitted and not yet ended (429 too_many_turns over it)', positiveInt)
  .action((options: KeysCreateOptions) => runKeysCreate(options));
keys
  .command('revoke')
  .description('revoke a key (by its id, or the whole key)')
  .argument('<key>', 'the key id (the 16 hex after voxq_) or the key')
  .action((key: string) => runKeysRevoke(key));
keys.command('list').description('list keys: id, state, scopes, name (never secrets)').action(() => runKeysList());

program.parseAsync(process.argv).catch((error: unknown) => {
  // Configuration errors are VoxqErrors too: their message names the problem, no stack needed.
  if (error instanceof VoxqError) {
    process.stderr.write(`voxq: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`voxq: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
