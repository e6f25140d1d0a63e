// GET /v1/stages: which stages have live workers (and on which hosts), and what each serves —
// provider, languages, TTS voices — so a client can pick a voice and language that will work.
import type { FastifyInstance } from 'fastify';
import { STAGES } from '../../shared/contracts/turn.js';
import { checkStages, type ReadinessDeps } from './readiness.js';
import { API_PREFIX, type StageView } from './schemas.js';
import type { StageOffers } from './stage-offers.js';

export function registerStagesRoute(app: FastifyInstance, readiness: ReadinessDeps, offers: StageOffers): void {
  app.get(`${API_PREFIX}/stages`, { config: { scope: 'turns:read' } }, async () => {
    const stages = await checkStages(readiness);
    return {
      stages: STAGES.map((stage): StageView => {
        const health = stages[stage];
        return {
          stage,
          live: health.healthy,
          workers: health.workers,
          hosts: health.hosts,
          ...offers[stage],
          ...('error' in health ? { error: health.error } : {}),
        };
      }),
      offerSource: 'api-config' as const,
    };
  });
}
