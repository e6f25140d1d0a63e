// Parts a caller injects (providers, stores, metrics, key stores) are checked where they are
// injected, at start: a part that is not its port is refused with a ConfigError (code
// `invalid_part`) naming the part, the port and what is wrong (`llm: LlmProvider is missing
// stream()`), instead of a turn failing later with `llm.stream is not a function`. What cannot be
// seen at start, a stream() that answers something other than an async iterable, fails the call.
import { ConfigError } from './config.js';
import { VoxqError } from './errors.js';
import { AUDIO_STORE_PORT } from './ports/audio-store.js';
import { BATCH_RECORD_STORE_PORT } from './ports/batch-record-store.js';
import { CONVERSATION_STORE_PORT } from './ports/conversation-store.js';
import { describeValue, portProblem, type PortSpec } from './ports/port-spec.js';
import { SESSION_MANAGER_PORT } from './ports/session-manager.js';
import { TURN_STORE_PORT } from './ports/turn-store.js';
import type { StoreSet } from './store/store-set.js';

/** Throws ConfigError `invalid_part` (`<part>: <Port> is missing <method>()`) unless `value` is a `port`. */
export function checkPart(part: string, value: unknown, port: PortSpec): void {
  const problem = portProblem(value, port);
  if (problem !== undefined) throw new ConfigError(`${part}: ${problem}`, 'invalid_part');
}

/** Each store of a StoreSet against its port, and its close(). */
export function checkStoreSet(part: string, stores: unknown): asserts stores is StoreSet {
  if (typeof stores !== 'object' || stores === null) throw new ConfigError(`${part}: a StoreSet expected, got ${describeValue(stores)}`, 'invalid_part');
  const set = stores as Record<string, unknown>;
  checkPart(`${part}.turns`, set.turns, TURN_STORE_PORT);
  checkPart(`${part}.audio`, set.audio, AUDIO_STORE_PORT);
  checkPart(`${part}.conversations`, set.conversations, CONVERSATION_STORE_PORT);
  checkPart(`${part}.sessions`, set.sessions, SESSION_MANAGER_PORT);
  if (set.batches !== undefined) checkPart(`${part}.batches`, set.batches, BATCH_RECORD_STORE_PORT);
  if (typeof set.close !== 'function') throw new ConfigError(`${part}: StoreSet is missing close()`, 'invalid_part');
}

/**
 * What a stream() call answered, checked to be an async iterable. Otherwise a VoxqError
 * `invalid_part` naming the part (`llm: LlmProvider.stream() answered a Promise, not an async
 * iterable`): never retried, the turn fails with it.
 */
export function asyncIterableFrom<T>(answer: AsyncIterable<T>, part: string, port: string): AsyncIterable<T> {
  const value: unknown = answer;
  const iterable = typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
  if (!iterable) throw new VoxqError('invalid_part', `${part}: ${port}.stream() answered ${describeValue(value)}, not an async iterable`);
  return answer;
}
