// What /readyz reports: per stage, the live workers (BullMQ's worker list) and their hosts;
// Redis and MongoDB reachability. Ready only when both answer and every stage has a worker.
import { STAGES, type StageName } from '../../shared/contracts/turn.js';
import type { ServiceClient, ServiceHealth } from '../../shared/ports/service-client.js';

export interface Readiness {
  ready: boolean;
  redis: { ok: boolean; error?: string };
  mongo: { ok: boolean; error?: string };
  stages: Record<StageName, Omit<ServiceHealth, 'service'> | { healthy: false; workers: 0; hosts: []; error: string }>;
}

export interface ReadinessDeps {
  services: ServiceClient;
  pingRedis(): Promise<unknown>;
  pingMongo(): Promise<unknown>;
  /** Each check gives up after this long (a dead dependency must not hang the probe). */
  timeoutMs?: number;
}

export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const limit = deps.timeoutMs ?? 2000;
  const [redis, mongo, byStage] = await Promise.all([settle(deps.pingRedis(), limit), settle(deps.pingMongo(), limit), checkStages(deps)]);
  const check = (r: { value: unknown } | { error: string }) => ('value' in r ? { ok: true } : { ok: false, error: r.error });
  const result: Readiness = { ready: false, redis: check(redis), mongo: check(mongo), stages: byStage };
  result.ready = result.redis.ok && result.mongo.ok && STAGES.every((s) => byStage[s].healthy);
  return result;
}

/** Each stage's live workers and their hosts (BullMQ's worker list of its queue). */
export async function checkStages(deps: Pick<ReadinessDeps, 'services' | 'timeoutMs'>): Promise<Readiness['stages']> {
  const limit = deps.timeoutMs ?? 2000;
  const results = await Promise.all(STAGES.map((stage) => settle(deps.services.health(stage), limit)));
  const byStage = {} as Readiness['stages'];
  STAGES.forEach((stage, i) => {
    const result = results[i];
    if (result && 'value' in result) {
      const { healthy, workers, hosts } = result.value as ServiceHealth;
      byStage[stage] = { healthy, workers, hosts };
    } else {
      byStage[stage] = { healthy: false, workers: 0, hosts: [], error: result?.error ?? 'unknown' };
    }
  });
  return byStage;
}

async function settle(promise: Promise<unknown>, timeoutMs: number): Promise<{ value: unknown } | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value })), timeout]);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
