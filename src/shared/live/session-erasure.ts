// Erasing a person's data (Brazil's LGPD, and every privacy law like it): a session, its turns,
// messages, interactions, audio, jobs, event logs and live state, from every store. Its turns in
// flight are cancelled first. Used by deleteSession (SDK, DELETE /v1/sessions/{id}) and by the
// retention sweep (VOXQ_RETENTION_DAYS). Idempotent: a second erasure finds nothing.
import { isCluster, type RedisClient } from '../redis.js';
import { stageJobId } from '../contracts/jobs.js';
import type { StageName } from '../contracts/turn.js';
import type { StageQueues } from '../queues.js';
import type { StoreSet } from '../store/store-set.js';
import type { LiveTurns } from './live-turns.js';
import { replyAudioId, type TurnEnder } from './turn-ender.js';
import type { UnfinishedTurns } from './unfinished-turns.js';

export interface ErasureDeps {
  stores: Pick<StoreSet, 'turns' | 'sessions' | 'audio'>;
  queues: StageQueues;
  redis: RedisClient;
  prefix: string;
  unfinished: UnfinishedTurns;
  live: LiveTurns;
  ender: TurnEnder;
}

/** True when there was something to erase. */
export async function eraseSession(deps: ErasureDeps, sessionId: string): Promise<boolean> {
  const { stores, queues, redis, prefix, unfinished, live, ender } = deps;
  const known = (await stores.sessions.getSession(sessionId)) !== null;
  for (const turnId of await live.sessionTurns(sessionId)) await ender.interrupt({ turnId, sessionId });
  const turns = await stores.turns.deleteSession(sessionId);
  for (const turn of turns) {
    const sentences = turn.stages.llm?.output.sentences ?? 1;
    const reply = replyAudioId(turn.turnId);
    const audioIds = [`${turn.turnId}.input`, reply, ...Array.from({ length: sentences }, (_, i) => `${reply}.${i}`)];
    await Promise.all(audioIds.map((id) => stores.audio.delete(id).catch(() => undefined)));
    const jobs: [StageName, string][] = [
      ['stt', stageJobId(turn.turnId, 'stt')],
      ['llm', stageJobId(turn.turnId, 'llm')],
      ...Array.from({ length: sentences }, (_, i): [StageName, string] => ['tts', stageJobId(turn.turnId, 'tts', i)]),
    ];
    await Promise.all(jobs.map(([stage, id]) => queues.get(stage, sessionId).remove(id).catch(() => 0)));
    // Two keys of two slots: one DEL each (a Redis Cluster refuses one across slots).
    await redis.del(`${prefix}:turn-ids:${turn.turnId}`);
    await redis.del(`${prefix}:turn-session:${turn.turnId}`);
    await unfinished.remove({ turnId: turn.turnId, sessionId });
  }
  const deleted = await stores.sessions.deleteSession(sessionId);
  // Every key of the session and its turns shares its hash tag: one slot, on one master of a cluster.
  let keys = 0;
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${live.sessionTag(sessionId)}:*`, 'COUNT', 500);
      cursor = next;
      if (found.length > 0) keys += await node.del(...found);
    } while (cursor !== '0');
  }
  return known || deleted || turns.length > 0 || keys > 0;
}
