// The GPU manager on a real NVIDIA GPU: prints nvidia-smi's raw CSV for voxq's two queries,
// parses it into the inventory, pins a worker to card 0 (CUDA_VISIBLE_DEVICES, resident memory
// reserved), reserves and releases a job's memory, checks that a foreign CUDA process's memory
// is subtracted from what is free (when python3 with torch is there), and saves the raw output
// as new fixtures under $OUT. Redis: REDIS_URL when it answers, else a `redis-server` it starts
// ($VOXQ_REDIS_SERVER or PATH) on a free port; with neither it checks the inventory only, and
// says so. Ends stdout with one JSON line.
//   node --import tsx bench/gpu-device-check.ts
// On a GPU machine without Node or Redis (the lent H100 had neither), carry a bundle, Node and
// redis-server from here (about 30 MB) in the ignored folder .voxq/device:
//   mkdir -p .voxq/device && node_modules/.bin/esbuild bench/gpu-device-check.ts --bundle --platform=node \
//     --format=esm --target=node20 --outfile=.voxq/device/gpu-device-check.mjs \
//     --banner:js="import {createRequire as __cr} from 'module'; const require = __cr(import.meta.url);"
//   xz -6 -T2 -c "$(command -v node)" > .voxq/device/node.xz && cp /usr/bin/redis-server .voxq/device/ &&
//     for l in liblzf.so.1 libjemalloc.so.2 libatomic.so.1; do cp -L /lib/x86_64-linux-gnu/$l .voxq/device/; done
// and there (carry: [".voxq/device"]):
//   cd .voxq/device && (xz -dc node.xz > node || python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('node.xz'),open('node','wb'))") &&
//     chmod +x node redis-server && LD_LIBRARY_PATH=$PWD VOXQ_REDIS_SERVER=$PWD/redis-server ./node gpu-device-check.mjs
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { configSchema } from '../src/shared/config.js';
import { openGpuManager, pinProcessToGpu } from '../src/shared/gpu/open-gpu-manager.js';
import { NvidiaSmiInventory, runNvidiaSmi } from '../src/shared/gpu/nvidia-smi-inventory.js';
import { COMPUTE_APPS_ARGS, GPU_QUERY_ARGS } from '../src/shared/gpu/nvidia-smi-parser.js';
import { MIG_LIST_ARGS, MIG_TABLE_ARGS } from '../src/shared/gpu/mig-parser.js';
import { createLogger } from '../src/shared/logger.js';
import { freePort } from '../tests/support/free-port.js';

const run = promisify(execFile);
const log = createLogger('voxq-gpu-check', process.env.VOXQ_LOG_LEVEL ?? 'info');
const say = (text: string) => process.stdout.write(`${text}\n`);
const summary: Record<string, unknown> = { host: hostname() };


async function reachable(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function redisFor(): Promise<{ url: string; how: string; server?: ChildProcess } | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await reachable(url)) return { url, how: `REDIS_URL ${url}` };
  const candidates = [process.env.VOXQ_REDIS_SERVER, 'redis-server'].filter((c): c is string => !!c);
  for (const binary of candidates) {
    if (binary.includes('/') && !existsSync(binary)) continue;
    const port = await freePort();
    const server = spawn(binary, ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    const failed = once(server, 'error').then(() => false);
    const started = (async () => {
      for (let i = 0; i < 100; i++) {
        if (await reachable(`redis://127.0.0.1:${port}`)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    })();
    if (await Promise.race([started, failed])) return { url: `redis://127.0.0.1:${port}`, how: `started ${binary} on port ${port}`, server };
    server.kill('SIGKILL');
  }
  return undefined;
}

/** A foreign CUDA process holding memory (python3 + torch), or undefined when there is none. */
async function foreignCudaProcess(mb: number): Promise<ChildProcess | undefined> {
  const python = process.env.VOXQ_CHECK_PYTHON ?? 'python3';
  const child = spawn(python, ['-c', `import torch,time\nx=torch.empty(${mb}*1024*1024,dtype=torch.uint8,device='cuda')\nprint('ready',flush=True)\ntime.sleep(120)`], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '0' },
  });
  child.on('error', () => undefined);
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
    setTimeout(() => resolve(false), 60_000);
  });
  if (ready) return child;
  child.kill('SIGKILL');
  return undefined;
}

async function main(): Promise<void> {
  const out = process.env.OUT;
  // 1. Raw nvidia-smi, as recorded fixtures.
  const gpuRun = await runNvidiaSmi(GPU_QUERY_ARGS);
  const appsRun = await runNvidiaSmi(COMPUTE_APPS_ARGS);
  const header = await run('nvidia-smi', ['--query-gpu=driver_version,name', '--format=csv,noheader']).then((r) => r.stdout.trim(), (e: unknown) => String(e));
  say(`$ nvidia-smi ${GPU_QUERY_ARGS.join(' ')}   (exit ${gpuRun.exitCode})\n${gpuRun.stdout}${gpuRun.stderr}`);
  say(`$ nvidia-smi ${COMPUTE_APPS_ARGS.join(' ')}   (exit ${appsRun.exitCode})\n${appsRun.stdout}${appsRun.stderr}`);
  if (out) {
    const name = (header.split(',')[1] ?? 'gpu').trim().toLowerCase().replace(/[^a-z0-9]+/g, '-');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `recorded-${name}.query-gpu.csv`), gpuRun.stdout);
    await writeFile(join(out, `recorded-${name}.compute-apps.csv`), appsRun.stdout);
    await writeFile(
      join(out, `recorded-${name}.md`),
      `Recorded by bench/gpu-device-check.ts on ${new Date().toISOString()}, host ${hostname()}\n` +
        `driver_version, name: ${header}\nquery: nvidia-smi ${GPU_QUERY_ARGS.join(' ')} (exit ${gpuRun.exitCode})\n` +
        `compute apps: nvidia-smi ${COMPUTE_APPS_ARGS.join(' ')} (exit ${appsRun.exitCode}), captured before voxq ran anything on the card\n`,
    );
    summary.fixtures = `recorded-${name}.*`;
    // A card already in MIG mode (never switched by this check): also what voxq reads for its MIG devices.
    if (/,\s*Enabled\s*$/im.test(gpuRun.stdout)) {
      await writeFile(join(out, `recorded-${name}-mig.list.txt`), (await runNvidiaSmi(MIG_LIST_ARGS)).stdout);
      await writeFile(join(out, `recorded-${name}-mig.table.txt`), (await runNvidiaSmi(MIG_TABLE_ARGS)).stdout);
      summary.mig_fixtures = `recorded-${name}-mig.*`;
    }
  }

  // 2. Parsed.
  const inventory = await new NvidiaSmiInventory({ host: hostname(), cacheMs: 0 }).read();
  say(`inventory: ${JSON.stringify(inventory)}`);
  summary.cards = inventory.cards.map((c) => ({ index: c.index, uuid: c.uuid, name: c.name, totalMb: c.totalMb, migMode: c.migMode }));

  // 3. The ledger, pinning, reserve and release.
  const redis = await redisFor();
  if (!redis) {
    summary.ledger = 'skipped: no Redis reachable and no redis-server to start (inventory checked only)';
    return;
  }
  summary.redis = redis.how;
  try {
    const config = configSchema.parse({ REDIS_URL: redis.url, VOXQ_PREFIX: `voxqcheck${randomBytes(3).toString('hex')}`, VOXQ_GPU_LEASE_TTL_MS: '3000', VOXQ_LOG_LEVEL: 'info' });
    const card = inventory.cards[0];
    if (!card) throw new Error('no card');
    const pinned = await pinProcessToGpu(config, card, [{ service: 'tts', model: 'kokoro', provider: 'kokoro' }], { log });
    summary.cuda_visible_devices = process.env.CUDA_VISIBLE_DEVICES;
    const manager = pinned.manager;
    const afterPin = await manager.memoryUsage();
    const job = await manager.allocate('tts:kokoro:job', 512);
    const withJob = await manager.memoryUsage();
    if (job.ok) await job.lease.release();
    const tooBig = await manager.allocate('too-big', card.totalMb + 1);
    summary.backend_kokoro = await manager.recommendedBackend('kokoro');
    summary.too_big_refusal = tooBig.ok ? 'unexpectedly granted' : tooBig.reason;
    summary.usage = { afterPin: afterPin[0], withJob: withJob[0] };

    // A foreign CUDA process: its memory must leave voxq's free MB (nvidia-smi is read afresh).
    const foreign = await foreignCudaProcess(2048);
    if (foreign) {
      const fresh = openGpuManager(config, { log, inventory: new NvidiaSmiInventory({ host: hostname(), cacheMs: 0 }) });
      const withForeign = await fresh.memoryUsage();
      summary.usage_with_foreign_2048mb = withForeign[0];
      const apps = await runNvidiaSmi(COMPUTE_APPS_ARGS);
      say(`$ nvidia-smi ${COMPUTE_APPS_ARGS.join(' ')}   (with a foreign torch process)\n${apps.stdout}`);
      if (out) await writeFile(join(out, `recorded-foreign-process.compute-apps.csv`), apps.stdout);
      foreign.kill('SIGKILL');
      await fresh.close();
    } else {
      summary.usage_with_foreign_2048mb = 'skipped: no python3 with torch+CUDA to hold memory';
    }
    await pinned.close();
    const check = openGpuManager(config, { log });
    summary.reserved_after_close_mb = (await check.memoryUsage())[0]?.reservedMb;
    await check.close();
  } finally {
    redis.server?.kill('SIGKILL');
  }
}

main().then(
  () => {
    say(JSON.stringify(summary));
    process.exit(0);
  },
  (error: unknown) => {
    log.error({ err: error }, 'gpu device check failed');
    summary.error = error instanceof Error ? error.message : String(error);
    say(JSON.stringify(summary));
    process.exit(1);
  },
);
