// Redis restarts under live leases (on a Redis of the test's own, never the shared one): leases
// are rebuilt by the holders still alive, a holder that died meanwhile leaks nothing — whether
// Redis came back empty (its lease is simply gone) or from a snapshot (its lease expires).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolveHostId } from '../../src/shared/gpu/host-id.js';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ReservationLedger } from '../../src/shared/gpu/reservation-ledger.js';
import { gpuTestPrefix, reservedMb } from '../support/gpu-ledger.js';
import { spawnScript } from '../support/script-process.js';
import type { VoxqProcess } from '../support/voxq-process.js';
import { stopProcesses } from '../support/e2e-cleanup.js';
import { freePort } from '../support/free-port.js';

const TTL_MS = 1500;
const processes: VoxqProcess[] = [];
let server: ChildProcess | undefined;
let dir: string | undefined;


async function startRedis(port: number, workDir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--dir', workDir, '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await expect.poll(() => out.includes('Ready to accept connections'), { timeout: 10_000, interval: 20 }).toBe(true);
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

afterEach(async () => {
  await stopProcesses(processes);
  if (server) await stopRedis(server);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function leaseIds(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.hkeys(`${prefix}:gpu:${resolveHostId()}:GPU-simulated-0000:mb`)).sort();
}

describe('GPU ledger across a Redis restart', () => {
  it('is rebuilt by live holders and leaks nothing of a holder that died meanwhile', async () => {
    dir = await mkdtemp(join(tmpdir(), 'voxq-gpu-redis-'));
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    server = await startRedis(port, dir);
    const prefix = gpuTestPrefix();
    const env = { REDIS_URL: url, VOXQ_PREFIX: prefix, VOXQ_GPUS: '0:Sim:8192', VOXQ_GPU_LEASE_TTL_MS: String(TTL_MS), VOXQ_LOG_LEVEL: 'info', HOLDER_GPU: '0' };
    const holder = (mb: number) => {
      const p = spawnScript('tests/support/gpu-holder.ts', { ...env, HOLDER_MB: String(mb) });
      processes.push(p);
      return p;
    };
    const survivor = holder(3000);
    const doomed = holder(2000);
    const survivorLease = String((await survivor.waitForLog('gpu lease held')).leaseId);
    const doomedLease = String((await doomed.waitForLog('gpu lease held')).leaseId);
    const redis = new Redis(url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined); // refused while the test's Redis is down
    expect(await leaseIds(redis, prefix)).toEqual([doomedLease, survivorLease].sort());

    // 1. Redis dies and comes back empty; one holder dies while it is away.
    await stopRedis(server);
    doomed.kill('SIGKILL');
    await doomed.exited;
    server = await startRedis(port, dir);
    await expect.poll(() => leaseIds(redis, prefix), { timeout: TTL_MS * 3, interval: 50 }).toEqual([survivorLease]);
    await survivor.waitForLog('gpu lease rebuilt in the ledger');
    expect(await reservedMb(redis, prefix, resolveHostId(), 0)).toBe(3000);

    // 2. Redis comes back from a snapshot that still lists a holder that died: its lease expires.
    const ghost = holder(4000);
    const ghostLease = String((await ghost.waitForLog('gpu lease held')).leaseId);
    await redis.save();
    ghost.kill('SIGKILL');
    await ghost.exited;
    await stopRedis(server);
    server = await startRedis(port, dir);
    await expect.poll(() => leaseIds(redis, prefix), { timeout: 5000, interval: 20 }).toContain(ghostLease);
    // The ledger's own read (as `voxq gpus` and every allocation do) drops what has expired.
    const ledger = new ReservationLedger(redis, prefix);
    const card = { host: resolveHostId(), uuid: 'GPU-simulated-0000' };
    await expect.poll(async () => (await ledger.snapshot(card)).map((l) => l.id), { timeout: TTL_MS * 3, interval: 50 }).toEqual([survivorLease]);
    expect(await leaseIds(redis, prefix)).toEqual([survivorLease]);
    expect(survivor.stderr().includes('gpu lease lost')).toBe(false);

    redis.disconnect();
  });
});
