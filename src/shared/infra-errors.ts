// Errors that say a store is unreachable — MongoDB or Redis down, restarting or electing a
// primary — rather than anything about the turn. The stage runner waits these out (up to
// VOXQ_OUTAGE_TOLERANCE_MS) without spending the attempts that belong to provider errors; the
// SDK answers its callers with an UnavailableError that says which store, never a driver's error.
import { UnavailableError, VoxqError } from './errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** MongoDB driver error classes that mean "no usable server right now". */
const MONGO_OUTAGE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
]);

/** Server answers of a replica set that is electing or stepping down (retryable once a primary is back). */
const MONGO_ELECTION_CODES = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);

/** ioredis Cluster's and the cluster's own answers while slots move to a promoted replica. */
const REDIS_CLUSTER_OUTAGE = /^(Too many Cluster redirections|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready|MASTERDOWN)/;

export function isInfrastructureOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    const { name, message } = e;
    const code = (e as { code?: unknown }).code;
    if (MONGO_OUTAGE_NAMES.has(name)) return true;
    if (name === 'MongoServerError' && typeof code === 'number' && MONGO_ELECTION_CODES.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (message === 'Connection is closed.' || message.startsWith('Stream isn\'t writeable')) return true;
    // A Redis Cluster failing over (a master gone, its replica not yet promoted or not yet known).
    if (REDIS_CLUSTER_OUTAGE.test(message)) return true;
  }
  return false;
}

/** Which store an outage error comes from: MongoDB's driver errors name it, the rest are Redis's. */
function storeOf(error: unknown): 'redis' | 'database' {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e.name.startsWith('Mongo')) return 'database';
  }
  return 'redis';
}

/** An outage error as the SDK's callers see it: UnavailableError with a code; any other error as it is. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof VoxqError || !isInfrastructureOutage(error)) return error;
  return storeOf(error) === 'database'
    ? new UnavailableError('database_unavailable', 'MongoDB did not answer (down, restarting or electing a primary); retry the call once it is back', { cause: error })
    : new UnavailableError('redis_unavailable', 'Redis did not answer (down or restarting); retry the call once it is back', { cause: error });
}

/** Runs `call`, answering an outage with UnavailableError (see asUnavailable). */
export async function withOutageErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asUnavailable(error);
  }
}
