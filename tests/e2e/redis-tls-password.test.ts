// REDIS_URL with TLS and a password (rediss://:password@host:port), as managed Redis services give
// it: a turn runs through the SDK and a worker on a redis-server of the test's own that accepts
// only TLS and only with that password, its certificate from a private CA (NODE_EXTRA_CA_CERTS).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

const run = promisify(execFile);
const PASSWORD = 'a-long-redis-password';
let dir: string;
let server: ChildProcess;
let port: number;


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voxq-redis-tls-'));
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  port = await freePort();
  const cert = join(dir, 'cert.pem');
  server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir, '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await once(server, 'exit');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs tests/support/redis-url-turn.ts in a Node process of its own with this REDIS_URL. */
async function turnOn(redisUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/redis-url-turn.ts', 'olá pela rede cifrada'], {
    env: { ...process.env, REDIS_URL: redisUrl, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'), MONGO_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

describe('REDIS_URL with TLS and a password', () => {
  it('runs a turn end to end over rediss:// with the password from the URL', async () => {
    const result = await turnOn(`rediss://:${PASSWORD}@127.0.0.1:${port}`);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout) as { reply: string }).toMatchObject({ reply: expect.stringContaining('olá pela rede cifrada') as string });
  }, 60_000);

  it('refuses a wrong password at connect with a ConfigError naming it, instead of waiting on reconnects', async () => {
    const result = await turnOn(`rediss://:wrong-password@127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ConfigError: Redis refused the credentials in REDIS_URL \(WRONGPASS/);
    expect(result.stderr).not.toContain('wrong-password');
  }, 60_000);
});
