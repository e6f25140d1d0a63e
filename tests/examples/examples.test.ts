// Every examples/NN-*.ts runs as a user would run it (node --import tsx, `import … from 'voxq'`
// resolved by Node to the BUILT package through package.json `exports`) and must exit 0 and print
// what it claims: each `// prints: <regex>` line of the file must match its stdout (multiline).
// Offline: no Groq or OpenAI key (the fakes stand in for those remote services), the run's test
// database, Redis under a prefix of its own (VOXQ_EXAMPLE_PREFIX) that is removed afterwards. Examples with a Groq path
// (groqOptions()) run a second time against the local Groq stand-in, so that path runs too.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { closeRedis, createRedis } from '../../src/shared/redis.js';
import { startGroqStandin, type GroqStandin } from '../support/groq-standin.js';
import { testMongoUrl } from '../support/mongo.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const RUN_LIMIT_MS = 90_000;
/** The document's 11 examples, each of which must be there. */
const REQUIRED = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11'];

const files = readdirSync(EXAMPLES)
  .filter((name) => /^\d\d-[a-z0-9-]+\.ts$/.test(name))
  .sort();

/** The `// prints: <regex>` claims of an example. */
function claims(file: string): RegExp[] {
  return [...readFileSync(join(EXAMPLES, file), 'utf8').matchAll(/^\/\/ prints: (.+)$/gm)].map((m) => new RegExp(m[1] ?? '', 'm'));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runExample(file: string, env: Record<string, string>): Promise<Run> {
  // The example sees no key or voxq setting of this shell: only what the test gives it.
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VOXQ_|GROQ_|OPENAI_|OTEL_)/.test(key) && key !== 'MONGO_URL'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(EXAMPLES, file)], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    }),
  );
}

const redis = createRedis(inject('redisUrl'), 'producer', 'voxq-test-examples');
let standin: GroqStandin;

beforeAll(async () => {
  standin = await startGroqStandin();
});

afterAll(async () => {
  await standin?.close();
  await closeRedis(redis);
});

async function runAndCheck(file: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const prefix = `vtex${randomBytes(4).toString('hex')}`;
  try {
    const run = await runExample(file, { REDIS_URL: inject('redisUrl'), MONGO_URL: testMongoUrl(), VOXQ_EXAMPLE_PREFIX: prefix, VOXQ_LOG_LEVEL: 'warn', ...extraEnv });
    const context = `${file} (exit ${run.code})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr.slice(-4000)}`;
    expect(run.code, context).toBe(0);
    for (const claim of claims(file)) expect(claim.test(run.stdout), `${file} did not print ${claim.source}\n${context}`).toBe(true);
    return run;
  } finally {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
  }
}

describe('examples/', () => {
  it('holds the document’s examples, each claiming what it prints, importing voxq by name', () => {
    const numbers = files.map((name) => name.slice(0, 2));
    expect(numbers.filter((n) => REQUIRED.includes(n))).toEqual(REQUIRED);
    for (const file of files) {
      expect(claims(file).length, `${file} has no // prints: line`).toBeGreaterThan(0);
      const source = readFileSync(join(EXAMPLES, file), 'utf8');
      expect(source, `${file} must import from 'voxq'`).toMatch(/from 'voxq';/);
      expect(source, `${file} imports voxq's source instead of the package`).not.toMatch(/from '\.\.\/(src|dist)\//);
    }
  });

  it('runs them against the built package (dist/), not the source', async () => {
    expect(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npx tsc -p tsconfig.build.json first').toBe(true);
    const run = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "console.log(import.meta.resolve('voxq'))"], { cwd: ROOT });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('close', () => resolve(out.trim()));
    });
    expect(run).toBe(`file://${join(ROOT, 'dist', 'index.js')}`);
  });

  it.each(files)('%s runs offline, exits 0 and prints what it claims', async (file) => {
    await runAndCheck(file);
  }, RUN_LIMIT_MS + 10_000);

  it('leaves nothing in Redis when run on its own random prefix (no VOXQ_EXAMPLE_PREFIX)', async () => {
    const exampleKeys = async () => new Set(await redis.keys('voxq-example-*'));
    const before = await exampleKeys();
    const run = await runExample('08-orchestrator.ts', { REDIS_URL: inject('redisUrl'), MONGO_URL: testMongoUrl(), VOXQ_LOG_LEVEL: 'warn' });
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
    const left = [...(await exampleKeys())].filter((key) => !before.has(key));
    if (left.length > 0) await redis.del(...left);
    expect(left).toEqual([]);
  }, RUN_LIMIT_MS + 10_000);

  const withGroq = files.filter((file) => readFileSync(join(EXAMPLES, file), 'utf8').includes('groqOptions()'));
  it.each(withGroq)('%s runs its Groq path against the Groq stand-in', async (file) => {
    const before = standin.requests.length;
    await runAndCheck(file, { GROQ_API_KEY: standin.apiKey, GROQ_BASE_URL: standin.url });
    expect(standin.requests.length, `${file} made no request to Groq`).toBeGreaterThan(before);
  }, RUN_LIMIT_MS + 10_000);
});
