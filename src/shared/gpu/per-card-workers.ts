// `voxq worker --gpu all`: one worker process per card, each spawned with CUDA_VISIBLE_DEVICES
// set to its card and `--gpu <uuid>`. Signals are passed on; the parent exits when all have.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Logger } from '../logger.js';
import type { GpuCard } from '../ports/gpu-manager.js';
import { cudaVisibleDevices } from './gpu-selector.js';

export async function runWorkerPerCard(cards: readonly GpuCard[], workerArgs: readonly string[], log: Logger): Promise<number> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find the voxq script to spawn per-card workers');
  const children: ChildProcess[] = cards.map((card) => {
    const child = spawn(process.execPath, [...process.execArgv, script, 'worker', ...workerArgs, '--gpu', card.uuid], {
      env: { ...process.env, CUDA_VISIBLE_DEVICES: cudaVisibleDevices(card) },
      stdio: 'inherit',
    });
    log.info({ gpuIndex: card.index, gpuUuid: card.uuid, pid: child.pid }, 'gpu worker process started');
    return child;
  });
  const forward = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  const codes = await Promise.all(children.map(async (child) => {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? (signal ? 1 : 0);
  }));
  return Math.max(0, ...codes);
}
