// vitest globalSetup: MONGO_URL when set (a real MongoDB), else the bundled FerretDB for the run.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

import { createLogger } from '../../src/shared/logger.js';
import { startBundledFerretDb } from '../../src/shared/store/bundled-ferretdb.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('redisUrl', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  const mongoUrl = process.env.MONGO_URL;
  if (mongoUrl !== undefined && mongoUrl !== '') {
    project.provide('mongoUrl', mongoUrl);
    return async () => {};
  }

  const ferret = await startBundledFerretDb({ log: createLogger('test-ferretdb', process.env.VOXQ_LOG_LEVEL ?? 'warn') });
  project.provide('mongoUrl', ferret.uri);
  return () => ferret.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
    redisUrl: string;
  }
}
