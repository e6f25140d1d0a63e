// Errors that say a store is unreachable — MongoDB or Redis down, restarting or electing a
// primary — rather than anything about the turn. The stage runner waits these out (up to
// VOXQ_OUTAGE_TOLERANCE_MS) without spending the attempts that belong to provider errors.

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

export function isInfrastructureOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    const { name, message } = e;
    const code = (e as { code?: unknown }).code;
    if (MONGO_OUTAGE_NAMES.has(name)) return true;
    if (name === 'MongoServerError' && typeof code === 'number' && MONGO_ELECTION_CODES.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (message === 'Connection is closed.' || message.startsWith('Stream isn\'t writeable')) return true;
  }
  return false;
}
