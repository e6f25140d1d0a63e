// What a multi-process test leaves behind, removed: its processes (killed if still running), its
// Redis keys (by prefix) and its database.
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { openMongoStores } from '../../src/shared/store/mongo-stores.js';
import { testMongoUrl } from './mongo.js';
import type { VoxqProcess } from './voxq-process.js';

/** Kills (SIGKILL) what still runs, waits for every exit, and empties the list. */
export async function stopProcesses(processes: VoxqProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  await Promise.all(processes.splice(0).map((p) => p.exited));
}

export async function dropTestState({ prefix, dbName }: { prefix: string; dbName?: string }): Promise<void> {
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  if (dbName === undefined) return;
  const stores = await openMongoStores(testMongoUrl(), dbName);
  await stores.db.dropDatabase();
  await stores.close();
}
