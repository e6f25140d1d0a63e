// One suite for every SessionManager: in memory and on MongoDB/FerretDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId, newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { sessionIdSchema } from '../../src/shared/contracts/turn.js';
import type { ConversationStore } from '../../src/shared/ports/conversation-store.js';
import { isSessionManager, type SessionManager } from '../../src/shared/ports/session-manager.js';

export interface SessionManagerUnderTest {
  impl: SessionManager;
  close(): Promise<void>;
  /** The store the manager saves messages through, to check what it saved. */
  conversations?: ConversationStore;
}

export function describeSessionManagerContract(name: string, make: () => Promise<SessionManagerUnderTest>): void {
  describe(`SessionManager contract: ${name}`, () => {
    let subject: SessionManagerUnderTest;
    let sessions: SessionManager;

    beforeAll(async () => {
      subject = await make();
      sessions = subject.impl;
    });
    afterAll(async () => {
      await subject.close();
    });

    it('passes its type guard', () => {
      expect(isSessionManager(sessions)).toBe(true);
    });

    it('lists the sessions inactive since a date, oldest first', async () => {
      const before = new Date(Date.now() + 1000);
      const a = await sessions.createSession('velho');
      const b = await sessions.createSession('velho');
      const ids = await sessions.inactiveSince(before, 10_000);
      expect(ids).toEqual(expect.arrayContaining([a.sessionId, b.sessionId]));
      expect(await sessions.inactiveSince(new Date(0), 10)).toEqual([]);
      expect((await sessions.inactiveSince(before, 1)).length).toBe(1);
    });

    it('deletes a session with its messages, idempotently', async () => {
      const session = await sessions.createSession('apagar');
      await sessions.addInteraction({ sessionId: session.sessionId, userMessage: 'oi', assistantResponse: 'olá', turnId: 'turn_deadbeef-0000-4000-8000-000000000000' });
      expect(await sessions.deleteSession(session.sessionId)).toBe(true);
      expect(await sessions.getSession(session.sessionId)).toBeNull();
      expect(await sessions.context(session.sessionId)).toEqual([]);
      if (subject.conversations !== undefined) expect(await subject.conversations.history(session.sessionId)).toEqual([]);
      expect(await sessions.deleteSession(session.sessionId)).toBe(false);
    });

    it('creates a session and reads it back', async () => {
      const session = await sessions.createSession('user-1', { device: 'kiosk', nested: { a: 1 } });
      expect(sessionIdSchema.safeParse(session.sessionId).success).toBe(true);
      expect(session).toMatchObject({ userId: 'user-1', metadata: { device: 'kiosk', nested: { a: 1 } }, interactionCount: 0 });
      expect(session.lastActivityAt).toEqual(session.createdAt);
      expect(await sessions.getSession(session.sessionId)).toEqual(session);
    });

    it('defaults metadata to an empty object and gives every session its own id', async () => {
      const a = await sessions.createSession('user-2');
      const b = await sessions.createSession('user-2');
      expect(a.metadata).toEqual({});
      expect(a.sessionId).not.toBe(b.sessionId);
    });

    it('returns null for an unknown session, and false when adding to it', async () => {
      const sessionId = newSessionId();
      expect(await sessions.getSession(sessionId)).toBeNull();
      expect(await sessions.addInteraction({ sessionId, userMessage: 'oi', assistantResponse: 'olá', turnId: newTurnId() })).toBe(false);
      expect(await sessions.context(sessionId)).toEqual([]);
    });

    it('adds an interaction as a user and an assistant message', async () => {
      const { sessionId, createdAt } = await sessions.createSession('user-1');
      const ok = await sessions.addInteraction({
        sessionId,
        userMessage: 'Que horas são?',
        assistantResponse: 'São dez horas.',
        audioDurationMs: 1500,
        voiceUsed: 'pf_dora',
      });
      expect(ok).toBe(true);
      const session = await sessions.getSession(sessionId);
      expect(session?.interactionCount).toBe(1);
      expect(session!.lastActivityAt.getTime()).toBeGreaterThanOrEqual(createdAt.getTime());
      expect(await sessions.context(sessionId)).toEqual([
        { role: 'user', content: 'Que horas são?' },
        { role: 'assistant', content: 'São dez horas.' },
      ]);
    });

    it('records a turn once however often it is added', async () => {
      const { sessionId } = await sessions.createSession('user-1');
      const turnId = newTurnId();
      const interaction = { sessionId, userMessage: 'oi', assistantResponse: 'olá', turnId, audioDurationMs: 900, voiceUsed: 'pf_dora' };
      expect(await sessions.addInteraction(interaction)).toBe(true);
      expect(await sessions.addInteraction({ ...interaction, assistantResponse: 'outra resposta' })).toBe(true);
      expect((await sessions.getSession(sessionId))?.interactionCount).toBe(1);
      expect(await sessions.context(sessionId)).toEqual([
        { role: 'user', content: 'oi' },
        { role: 'assistant', content: 'olá' },
      ]);
      if (subject.conversations !== undefined) {
        const history = await subject.conversations.history(sessionId);
        expect(history.map((m) => m.messageId)).toEqual([messageId(turnId, 'user'), messageId(turnId, 'assistant')]);
        expect(history.every((m) => m.turnId === turnId)).toBe(true);
        expect(history[1]?.metadata).toMatchObject({ audioDurationMs: 900, voiceUsed: 'pf_dora' });
      }
    });

    it('records a turn once when 5 adds of it race', async () => {
      const { sessionId } = await sessions.createSession('user-1');
      const turnId = newTurnId();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => sessions.addInteraction({ sessionId, userMessage: 'oi', assistantResponse: 'olá', turnId })),
      );
      expect(results).toEqual([true, true, true, true, true]);
      expect((await sessions.getSession(sessionId))?.interactionCount).toBe(1);
      expect(await sessions.context(sessionId)).toHaveLength(2);
    });

    it('counts every interaction added without a turn id', async () => {
      const { sessionId } = await sessions.createSession('user-1');
      await sessions.addInteraction({ sessionId, userMessage: 'a', assistantResponse: 'b' });
      await sessions.addInteraction({ sessionId, userMessage: 'a', assistantResponse: 'b' });
      expect((await sessions.getSession(sessionId))?.interactionCount).toBe(2);
      expect(await sessions.context(sessionId)).toHaveLength(4);
    });

    it('gives the last messages as context, oldest first (10 by default)', async () => {
      const { sessionId } = await sessions.createSession('user-1');
      for (let i = 0; i < 8; i += 1) {
        await sessions.addInteraction({ sessionId, userMessage: `q${i}`, assistantResponse: `a${i}`, turnId: newTurnId() });
      }
      const context = await sessions.context(sessionId);
      expect(context.map((m) => m.content)).toEqual(['q3', 'a3', 'q4', 'a4', 'q5', 'a5', 'q6', 'a6', 'q7', 'a7']);
      expect(context[0]).toEqual({ role: 'user', content: 'q3' });
      const three = await sessions.context(sessionId, { maxMessages: 3 });
      expect(three).toEqual([
        { role: 'assistant', content: 'a6' },
        { role: 'user', content: 'q7' },
        { role: 'assistant', content: 'a7' },
      ]);
      expect((await sessions.getSession(sessionId))?.interactionCount).toBe(8);
    });

    it('hands out copies of sessions', async () => {
      const metadata = { device: 'kiosk' };
      const session = await sessions.createSession('user-1', metadata);
      metadata.device = 'changed-input';
      session.metadata.device = 'changed-output';
      session.interactionCount = 42;
      const stored = await sessions.getSession(session.sessionId);
      expect(stored?.metadata).toEqual({ device: 'kiosk' });
      expect(stored?.interactionCount).toBe(0);
    });

    it('rejects a session without a user id', async () => {
      await expect(sessions.createSession('')).rejects.toThrow();
    });
  });
}
