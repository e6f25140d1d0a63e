// Small helpers the MongoDB stores share: duplicate-key detection, insert-once by `_id`, and
// undefined-free documents.
import { isDeepStrictEqual } from 'node:util';
import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';

/** True for MongoDB's E11000 (an insert whose `_id` or unique key is already taken). */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Inserts a document whose `_id` says what it is (a turn's end, a session), once. True when this
 * document is stored: inserted now, or by this same write's earlier attempt (a retry after a
 * failover or a lost acknowledgement, which finds exactly its own document); false when another
 * document holds the `_id` (another writer got there first).
 */
export async function insertOnce<T extends Document & { _id: string }>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insertOne(doc as OptionalUnlessRequiredId<T>);
    return true;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const stored = await collection.findOne({ _id: doc._id } as Parameters<Collection<T>['findOne']>[0]);
    return stored !== null && isDeepStrictEqual({ ...stored }, { ...doc });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy without `undefined` properties: the driver would store them as `null`, which the zod
 * schemas (optional, not nullable) then reject on read. Dates and binaries are kept as they are.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutUndefined(item)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = withoutUndefined(item);
  }
  return out as T;
}
