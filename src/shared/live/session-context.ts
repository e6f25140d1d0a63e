// A session's last messages as LLM context, kept in Redis so the LLM stage reads no database
// on the path to first audio. Written by whoever ends a turn (after its messages are stored in
// MongoDB, and before the session's next turn may run its LLM stage), filled from MongoDB when
// missing. A list of JSON messages headed by a marker, so "known to be empty" differs from
// "not cached".
import type { RedisClient } from '../redis.js';
import type { ChatMessage } from '../ports/llm-provider.js';
import { sessionKeys, type LiveKeySpace } from './live-keys.js';

const HEAD = '{"head":true}';

export class SessionContextCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: { prefix: LiveKeySpace; ttlMs: number; maxMessages: number },
  ) {}

  private key(sessionId: string): string {
    return sessionKeys(this.options.prefix, sessionId).sessionContext;
  }

  /** The cached context, oldest first; null when not cached. */
  async get(sessionId: string): Promise<ChatMessage[] | null> {
    const items = await this.redis.lrange(this.key(sessionId), 0, -1);
    if (items.length === 0) return null;
    return items.filter((item) => item !== HEAD).map((item) => JSON.parse(item) as ChatMessage).slice(-this.options.maxMessages);
  }

  /** Replaces the cache with what MongoDB holds (or [] for a new session). */
  async fill(sessionId: string, messages: readonly ChatMessage[]): Promise<void> {
    const key = this.key(sessionId);
    const recent = messages.slice(-this.options.maxMessages).map((m) => JSON.stringify(m));
    await this.redis.multi().del(key).rpush(key, HEAD, ...recent).pexpire(key, this.options.ttlMs).exec();
  }

  /** Forgets the cached context (a stored message changed): the next reader fills it from MongoDB. */
  async drop(sessionId: string): Promise<void> {
    await this.redis.del(this.key(sessionId));
  }

  /** Appends a turn's messages when the context is cached (else the next reader fills it from MongoDB). */
  async append(sessionId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const key = this.key(sessionId);
    await this.redis
      .multi()
      .rpushx(key, ...messages.map((m) => JSON.stringify(m)))
      .ltrim(key, -(this.options.maxMessages + 1), -1)
      .pexpire(key, this.options.ttlMs)
      .exec();
  }
}
