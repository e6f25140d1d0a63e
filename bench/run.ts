// `npm run bench [-- <part> [options]]`: runs benchmark parts; no part runs them all. Each part's
// stdout ends with one JSON line of figures; logs and tables go to stderr.
import { benchLogger, printFigures } from './support/log.js';
import { GPU_HELP, runGpu } from './gpu.js';
import { runSpine, SPINE_HELP } from './spine.js';
import { BATCH_HELP, runBatch } from './batch.js';
import { runTts, TTS_HELP } from './tts.js';
import { runStream, STREAM_HELP } from './stream.js';
import { LOAD_HELP, runLoad } from './load.js';
import { CONSOLE_HELP, runConsole } from './console.js';
import { CLUSTER_HELP, runCluster } from './cluster.js';

interface Part {
  help: string;
  run(argv: readonly string[]): Promise<Record<string, unknown>>;
}

const PARTS: Record<string, Part> = {
  spine: { help: SPINE_HELP, run: runSpine },
  gpu: { help: GPU_HELP, run: runGpu },
  batch: { help: BATCH_HELP, run: runBatch },
  tts: { help: TTS_HELP, run: runTts },
  stream: { help: STREAM_HELP, run: runStream },
  load: { help: LOAD_HELP, run: runLoad },
  console: { help: CONSOLE_HELP, run: runConsole },
  cluster: { help: CLUSTER_HELP, run: runCluster },
};

const USAGE = `voxq benchmarks

  npm run bench                    every part: ${Object.keys(PARTS).join(', ')}
  npm run bench -- <part> [opts]   one part
  npm run bench -- <part> --help   the part's options

Each part prints one JSON line of figures on stdout (snake_case keys, units in the names);
logs and tables go to stderr. Redis: REDIS_URL (default redis://127.0.0.1:6379).`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n\n${Object.values(PARTS).map((p) => p.help).join('\n\n')}\n`);
    return 0;
  }
  if (first === undefined) {
    for (const part of Object.values(PARTS)) printFigures(await part.run([]));
    return 0;
  }
  const part = PARTS[first];
  if (!part) {
    process.stderr.write(`unknown part "${first}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${part.help}\n`);
    return 0;
  }
  printFigures(await part.run(rest));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    benchLogger('voxq-bench').error({ err: error }, 'benchmark failed');
    process.exitCode = 1;
  },
);
