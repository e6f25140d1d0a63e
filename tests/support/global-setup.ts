// Placeholder until the FerretDB harness lands: provides MONGO_URL when set.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject): void {
  project.provide('mongoUrl', process.env.MONGO_URL ?? '');
  project.provide('redisUrl', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
    redisUrl: string;
  }
}
