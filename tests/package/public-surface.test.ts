// The package's public surface is what the README documents: a Node process imports the BUILT
// package by its name ('voxq', resolved through package.json `exports` by self-reference, as a
// user's import would be) and its export list must equal the README's list (between the
// `exports:start` / `exports:end` markers), so neither can change without the other. Deep
// imports stay refused.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The names the README lists: every backticked name before the dash of each bullet between the markers. */
function documentedExports(readme: string): string[] {
  const start = readme.indexOf('<!-- exports:start -->');
  const end = readme.indexOf('<!-- exports:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no <!-- exports:start --> … <!-- exports:end --> list');
  const names: string[] = [];
  for (const line of readme.slice(start, end).split('\n')) {
    if (!line.startsWith('- ')) continue;
    const head = line.split(' — ')[0] ?? '';
    for (const match of head.matchAll(/`([A-Za-z_$][\w$]*)`/g)) if (match[1]) names.push(match[1]);
  }
  return names;
}

/** What `import('voxq')` gives in a fresh Node process in the package (the built dist, by name). */
async function builtExports(): Promise<{ names: string[]; deepImport: string; resolved: string }> {
  const script = `
    const names = Object.keys(await import('voxq')).sort();
    const resolved = import.meta.resolve('voxq');
    let deepImport = 'allowed';
    try { await import('voxq/dist/shared/providers/groq-llm.js'); } catch (error) { deepImport = error.code; }
    console.log(JSON.stringify({ names, deepImport, resolved }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, VOXQ_LOG_LEVEL: 'silent' } });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { names: string[]; deepImport: string; resolved: string };
}

describe('the public surface', () => {
  it('is exactly the list the README documents, imported from the built package by name', async () => {
    expect(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npx tsc -p tsconfig.build.json first').toBe(true);
    const documented = documentedExports(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(new Set(documented).size, 'a name is listed twice in the README').toBe(documented.length);
    const built = await builtExports();
    expect(built.resolved).toBe(`file://${join(ROOT, 'dist', 'index.js')}`);
    const undocumented = built.names.filter((name) => !documented.includes(name));
    const missing = documented.filter((name) => !built.names.includes(name));
    expect({ undocumented, missing }).toEqual({ undocumented: [], missing: [] });
    expect(built.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  }, 60_000);

  it('exports deliberately: no export * in src/index.ts', () => {
    const index = readFileSync(join(ROOT, 'src', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/^\s*export\s*\*/m);
  });

  it('reads the README list the way it is written', () => {
    const readme = ['intro `notAnExport`', '<!-- exports:start -->', '- `a`, `b` — makes `c`', 'text `d`', '- `e` — x', '<!-- exports:end -->', '- `f` — after'].join('\n');
    expect(documentedExports(readme)).toEqual(['a', 'b', 'e']);
  });
});
