#!/usr/bin/env node
// The `voxq` command. Each subcommand lives beside what it drives; this file only wires them.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from './shared/config.js';
import { VoxqError } from './shared/errors.js';
import { VOXQ_VERSION } from './shared/version.js';
import { runDemo } from './producers/demo.js';
import { runTurnCommand } from './producers/turn-command.js';
import { runWorkerCommand } from './workers/worker-command.js';

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
  $ voxq turn --audio pergunta.wav --out resposta.wav
  $ voxq turn --text "Que horas são?" --session sess_…`,
  );

program
  .command('worker')
  .description('run stage workers until SIGTERM (a second SIGTERM forces)')
  .option('--stages <list>', 'comma-separated stages to run: stt, llm, tts', 'stt,llm,tts')
  .option('--concurrency <n>', 'jobs at once per stage', positiveInt, 4)
  .action((options: { stages: string; concurrency: number }) => runWorkerCommand(options));

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

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof VoxqError) {
    process.stderr.write(`voxq: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`voxq: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
