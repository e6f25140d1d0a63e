// One suite for every ConversationStore: in memory and on MongoDB/FerretDB.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { isConversationStore, type ConversationStore, type MessageRole } from '../../src/shared/ports/conversation-store.js';

export interface ConversationStoreUnderTest {
  impl: ConversationStore;
  close(): Promise<void>;
}

export function describeConversationStoreContract(name: string, make: () => Promise<ConversationStoreUnderTest>): void {
  describe(`ConversationStore contract: ${name}`, () => {
    let subject: ConversationStoreUnderTest;
    let store: ConversationStore;

    beforeAll(async () => {
      subject = await make();
      store = subject.impl;
    });
    afterAll(async () => {
      await subject.close();
    });

    async function saveMany(sessionId: string, count: number): Promise<void> {
      for (let i = 0; i < count; i += 1) {
        const role: MessageRole = i % 2 === 0 ? 'user' : 'assistant';
        await store.saveMessage({ sessionId, role, content: `m${i}` });
      }
    }

    it('passes its type guard', () => {
      expect(isConversationStore(store)).toBe(true);
    });

    it("deletes a session's messages, and only its own, idempotently", async () => {
      const gone = newSessionId();
      const kept = newSessionId();
      await saveMany(gone, 3);
      await saveMany(kept, 2);
      expect(await store.deleteSession(gone)).toBe(3);
      expect(await store.history(gone)).toEqual([]);
      expect((await store.statistics(gone)).messageCount).toBe(0);
      expect(await store.deleteSession(gone)).toBe(0);
      expect((await store.history(kept)).length).toBe(2);
    });

    it('cuts a stored reply to what was heard (metadata merged), removes one of which nothing was heard, and says when there is none', async () => {
      const sessionId = newSessionId();
      const turnId = newTurnId();
      await store.saveMessage({ sessionId, role: 'user', content: 'Conte uma história.', messageId: messageId(turnId, 'user'), turnId });
      await store.saveMessage({ sessionId, role: 'assistant', content: 'Era uma vez um rei. Ele tinha três filhas.', metadata: { voiceUsed: 'pf_dora' }, messageId: messageId(turnId, 'assistant'), turnId });
      expect(await store.cutMessage(messageId(turnId, 'assistant'), 'Era uma vez um rei.', { interrupted: true, playedMs: 1200 })).toBe(true);
      const [user, reply] = await store.history(sessionId);
      expect(user?.content).toBe('Conte uma história.');
      expect(reply).toMatchObject({ role: 'assistant', content: 'Era uma vez um rei.', metadata: { voiceUsed: 'pf_dora', interrupted: true, playedMs: 1200 }, turnId });
      expect(await store.cutMessage(messageId(turnId, 'assistant'), '', { interrupted: true })).toBe(true);
      expect((await store.history(sessionId)).map((m) => m.role)).toEqual(['user']);
      expect(await store.statistics(sessionId)).toMatchObject({ messageCount: 1, userMessageCount: 1, assistantMessageCount: 0 });
      expect(await store.cutMessage(messageId(turnId, 'assistant'), 'x', {})).toBe(false);
    });

    it('saves a message and returns it as stored', async () => {
      const sessionId = newSessionId();
      const before = Date.now();
      const saved = await store.saveMessage({ sessionId, role: 'user', content: 'Olá!' });
      expect(saved.messageId).toMatch(/^msg_[0-9a-f-]{36}$/);
      expect(saved).toMatchObject({ sessionId, role: 'user', content: 'Olá!', metadata: {} });
      expect(saved.turnId).toBeUndefined();
      expect(saved.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(await store.history(sessionId)).toEqual([saved]);
    });

    it('keeps metadata (nested values, dates) and the turn id', async () => {
      const sessionId = newSessionId();
      const turnId = newTurnId();
      const metadata = { model: 'gpt-oss-20b', tokens: 150, nested: { list: [1, 'two'], at: new Date('2026-01-01T00:00:00Z') } };
      const saved = await store.saveMessage({ sessionId, role: 'assistant', content: 'Oi', metadata, turnId });
      expect(saved.metadata).toEqual(metadata);
      expect(saved.turnId).toBe(turnId);
      expect((await store.history(sessionId))[0]).toEqual(saved);
    });

    it('saves a message id once and returns the first version after that', async () => {
      const sessionId = newSessionId();
      const id = messageId(newTurnId(), 'user');
      const first = await store.saveMessage({ sessionId, role: 'user', content: 'primeira', messageId: id });
      const second = await store.saveMessage({ sessionId, role: 'user', content: 'segunda', messageId: id });
      expect(second).toEqual(first);
      expect(await store.history(sessionId)).toEqual([first]);
      expect((await store.statistics(sessionId)).messageCount).toBe(1);
    });

    it('saves one message when the same id is saved 5 times at once', async () => {
      const sessionId = newSessionId();
      const id = `msg_${randomUUID()}`;
      const saved = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.saveMessage({ sessionId, role: 'assistant', content: `v${i}`, messageId: id })),
      );
      for (const message of saved) expect(message).toEqual(saved[0]);
      expect(await store.history(sessionId)).toHaveLength(1);
    });

    it('returns the last messages oldest first: 50 saved, limit 10', async () => {
      const sessionId = newSessionId();
      await saveMany(sessionId, 50);
      const last10 = await store.history(sessionId, { limit: 10 });
      expect(last10.map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `m${40 + i}`));
      const all = await store.history(sessionId, { limit: 100 });
      expect(all.map((m) => m.content)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      expect(await store.history(sessionId, { limit: 0 })).toEqual([]);
    });

    it("keeps a turn's user message before its assistant message when saved in the same millisecond", async () => {
      const sessionId = newSessionId();
      for (let i = 0; i < 20; i += 1) {
        const turnId = newTurnId();
        await store.saveMessage({ sessionId, role: 'user', content: `q${i}`, messageId: messageId(turnId, 'user'), turnId });
        await store.saveMessage({ sessionId, role: 'assistant', content: `a${i}`, messageId: messageId(turnId, 'assistant'), turnId });
      }
      const history = await store.history(sessionId, { limit: 40 });
      expect(history.map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, i) => [`q${i}`, `a${i}`]).flat());
      for (let i = 1; i < history.length; i += 1) {
        expect(history[i]!.createdAt.getTime()).toBeGreaterThanOrEqual(history[i - 1]!.createdAt.getTime());
      }
    });

    it('keeps sessions apart', async () => {
      const a = newSessionId();
      const b = newSessionId();
      await store.saveMessage({ sessionId: a, role: 'user', content: 'a' });
      await store.saveMessage({ sessionId: b, role: 'user', content: 'b' });
      expect((await store.history(a)).map((m) => m.content)).toEqual(['a']);
      expect(await store.history(newSessionId())).toEqual([]);
    });

    it('counts messages per role with the first and last times', async () => {
      const sessionId = newSessionId();
      await saveMany(sessionId, 7);
      const history = await store.history(sessionId);
      const stats = await store.statistics(sessionId);
      expect(stats).toEqual({
        sessionId,
        messageCount: 7,
        userMessageCount: 4,
        assistantMessageCount: 3,
        firstMessageAt: history[0]!.createdAt,
        lastMessageAt: history[6]!.createdAt,
      });
    });

    it('reports zero for a session without messages', async () => {
      const sessionId = newSessionId();
      const stats = await store.statistics(sessionId);
      expect(stats).toMatchObject({ sessionId, messageCount: 0, userMessageCount: 0, assistantMessageCount: 0 });
      expect(stats.firstMessageAt).toBeUndefined();
      expect(stats.lastMessageAt).toBeUndefined();
    });

    it('hands out copies: changing a returned message changes nothing stored', async () => {
      const sessionId = newSessionId();
      const metadata = { tags: ['a'] };
      const saved = await store.saveMessage({ sessionId, role: 'user', content: 'x', metadata });
      metadata.tags.push('changed-input');
      saved.content = 'changed';
      // A store may hand out frozen metadata instead of a copy: then the change throws.
      try {
        (saved.metadata.tags as string[]).push('changed-output');
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
      }
      const [stored] = await store.history(sessionId);
      expect(stored?.content).toBe('x');
      expect(stored?.metadata).toEqual({ tags: ['a'] });
    });

    it('rejects a message with an unknown role or no session', async () => {
      await expect(store.saveMessage({ sessionId: newSessionId(), role: 'system' as MessageRole, content: 'x' })).rejects.toThrow();
      await expect(store.saveMessage({ sessionId: '', role: 'user', content: 'x' })).rejects.toThrow();
    });
  });
}
