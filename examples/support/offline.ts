// What the examples share to run on one machine: their own Redis key prefix, a database
// (MONGO_URL, else the bundled FerretDB: needs Go), Groq's key when there is one (without it the
// examples use the fakes for Groq's remote services), and the sample pt-BR recording.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { loadConfig, openMongoStores, startBundledFerretDb, type AudioInput, type Config, type MongoStores } from 'voxq';

/** A random prefix of the example's own: VOXQ_PREFIX is ignored, so an example never runs on a deployment's queues. */
const OWN_PREFIX = `voxq-example-${randomBytes(4).toString('hex')}`;

/**
 * The environment's config with `env` on top, under the example's own Redis key prefix
 * (VOXQ_EXAMPLE_PREFIX when set: whoever sets it removes the keys; else a random one, removed
 * by forgetExampleKeys()).
 */
export function exampleConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ VOXQ_LOG_LEVEL: 'warn', ...process.env, VOXQ_PREFIX: process.env.VOXQ_EXAMPLE_PREFIX ?? OWN_PREFIX, ...env });
}

/** Removes the Redis keys under the example's random prefix (queues, turn state): nothing of the run is left. */
export async function forgetExampleKeys(config: Config): Promise<void> {
  if (config.VOXQ_PREFIX !== OWN_PREFIX) return;
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${OWN_PREFIX}:*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/** Groq's options when GROQ_API_KEY is set (GROQ_BASE_URL: another server speaking Groq's API); else undefined. */
export function groqOptions(): { apiKey: string; baseURL?: string } | undefined {
  const apiKey = process.env.GROQ_API_KEY;
  if (!apiKey) return undefined;
  return { apiKey, ...(process.env.GROQ_BASE_URL ? { baseURL: process.env.GROQ_BASE_URL } : {}) };
}

export interface ExampleDatabase {
  url: string;
  name: string;
  /** Drops the example's database and stops the bundled server when one was started. */
  close(): Promise<void>;
}

/** MONGO_URL (a database of the example's own in it), else the bundled FerretDB in a temp folder. */
export async function exampleDatabase(): Promise<ExampleDatabase> {
  const name = `voxq_example_${randomBytes(4).toString('hex')}`;
  const mongoUrl = process.env.MONGO_URL;
  const server = mongoUrl ? undefined : await startBundledFerretDb();
  const url = mongoUrl ?? server?.uri ?? '';
  return {
    url,
    name,
    close: async () => {
      if (server) return server.stop();
      const stores = await openMongoStores(url, name);
      await stores.db.dropDatabase();
      await stores.close();
    },
  };
}

/** The MongoDB stores on the example's database; close() closes them and the database. */
export async function exampleStores(): Promise<MongoStores> {
  const database = await exampleDatabase();
  const stores = await openMongoStores(database.url, database.name);
  return {
    ...stores,
    close: async () => {
      await stores.close();
      await database.close();
    },
  };
}

/** assets/sample-pt-br.wav: a short pt-BR question (espeak-ng), as AudioInput. */
export async function sampleAudio(): Promise<AudioInput> {
  return { bytes: await readFile(new URL('../../assets/sample-pt-br.wav', import.meta.url)), mimeType: 'audio/wav' };
}
