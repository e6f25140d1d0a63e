// One suite for every TurnStore: in memory and on MongoDB/FerretDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import type { LlmOutput, StageTiming, SttOutput, Turn } from '../../src/shared/contracts/turn.js';
import { NotFoundError } from '../../src/shared/errors.js';
import { isTurnStore, type TurnStore } from '../../src/shared/ports/turn-store.js';

export interface TurnStoreUnderTest {
  impl: TurnStore;
  close(): Promise<void>;
}

export function makeTurn(overrides: Partial<Turn> = {}): Turn {
  return {
    turnId: newTurnId(),
    sessionId: newSessionId(),
    userId: 'user-1',
    status: 'queued',
    input: { kind: 'text', text: 'Olá, tudo bem?' },
    voice: 'pf_dora',
    language: 'pt-BR',
    speed: 1,
    llm: {},
    stages: {},
    createdAt: new Date(),
    ...overrides,
  };
}

export function makeTiming(workMs = 10): StageTiming {
  const enqueuedAt = new Date(Date.now() - 100);
  const startedAt = new Date(enqueuedAt.getTime() + 40);
  return {
    enqueuedAt,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + workMs),
    queueWaitMs: 40,
    workMs,
    attempts: 1,
  };
}

export function makeSttOutput(text: string): SttOutput {
  return {
    text,
    segments: [{ startMs: 0, endMs: 900, text, confidence: 0.9 }],
    language: 'pt',
    durationMs: 900,
    provider: 'fake',
    model: 'fake-stt',
  };
}

function makeLlmOutput(text: string): LlmOutput {
  return { text, provider: 'fake', model: 'fake-llm', contextMessages: 2 };
}

export function describeTurnStoreContract(name: string, make: () => Promise<TurnStoreUnderTest>): void {
  describe(`TurnStore contract: ${name}`, () => {
    let subject: TurnStoreUnderTest;
    let store: TurnStore;

    beforeAll(async () => {
      subject = await make();
      store = subject.impl;
    });
    afterAll(async () => {
      await subject.close();
    });

    async function created(overrides: Partial<Turn> = {}): Promise<Turn> {
      const turn = makeTurn(overrides);
      expect(await store.create(turn)).toBe(true);
      return turn;
    }

    it('passes its type guard', () => {
      expect(isTurnStore(store)).toBe(true);
    });

    it("deletes a session's turns with their transitions, and only its own, idempotently", async () => {
      const sessionId = newSessionId();
      const a = await created({ sessionId });
      const b = await created({ sessionId });
      const other = await created();
      await store.saveStage(a.turnId, 'stt', { output: makeSttOutput('apagar'), timing: makeTiming() });
      await store.complete(b.turnId, new Date());
      const removed = await store.deleteSession(sessionId);
      expect(removed.map((t) => t.turnId).sort()).toEqual([a.turnId, b.turnId].sort());
      expect(removed.find((t) => t.turnId === a.turnId)?.stages.stt?.output.text).toBe('apagar');
      expect(await store.get(a.turnId)).toBeNull();
      expect(await store.get(b.turnId)).toBeNull();
      expect(await store.listBySession(sessionId)).toEqual([]);
      expect(await store.deleteSession(sessionId)).toEqual([]);
      expect(await store.get(other.turnId)).not.toBeNull();
      // A transition left behind would resurrect a turn created again under the same id.
      expect(await store.create(a)).toBe(true);
      expect((await store.get(a.turnId))?.stages.stt).toBeUndefined();
    });

    it('stores a turn and reads it back as it was given', async () => {
      const turn = await created({ llm: { temperature: 0.2, systemPrompt: 'Seja breve.' } });
      expect(await store.get(turn.turnId)).toEqual(turn);
    });

    it('round-trips an audio input', async () => {
      const turn = await created({
        input: { kind: 'audio', audio: { audioId: 'aud_x', mimeType: 'audio/wav', sizeBytes: 3200, durationMs: 100 } },
      });
      expect(await store.get(turn.turnId)).toEqual(turn);
    });

    it('returns null for an unknown turn', async () => {
      expect(await store.get(newTurnId())).toBeNull();
    });

    it('creates a turn once: the second create returns false and changes nothing', async () => {
      const turn = await created();
      expect(await store.create({ ...turn, userId: 'someone-else' })).toBe(false);
      expect((await store.get(turn.turnId))?.userId).toBe('user-1');
    });

    it('rejects a turn that does not match the schema', async () => {
      await expect(store.create({ ...makeTurn(), turnId: 'not-a-turn-id' })).rejects.toThrow();
    });

    it('hands out copies: changing a returned turn changes nothing stored', async () => {
      const turn = await created();
      const read = await store.get(turn.turnId);
      read!.status = 'failed';
      read!.stages.stt = { output: makeSttOutput('x'), timing: makeTiming() };
      turn.userId = 'changed-after-create';
      expect(await store.get(turn.turnId)).toEqual({ ...turn, userId: 'user-1' });
    });

    it('records a stage and returns the turn as stored', async () => {
      const turn = await created();
      const timing = makeTiming();
      const stored = await store.recordStage(turn.turnId, 'stt', makeSttOutput('olá'), timing);
      expect(stored.stages.stt).toEqual({ output: makeSttOutput('olá'), timing });
      expect(await store.get(turn.turnId)).toEqual(stored);
    });

    it('keeps the first output when a stage is recorded twice', async () => {
      const turn = await created();
      await store.recordStage(turn.turnId, 'stt', makeSttOutput('primeiro'), makeTiming());
      const second = await store.recordStage(turn.turnId, 'stt', makeSttOutput('segundo'), makeTiming(99));
      expect(second.stages.stt?.output.text).toBe('primeiro');
      expect(second.stages.stt?.timing.workMs).toBe(10);
    });

    it('keeps one output when 20 workers record the same stage at once', async () => {
      const turn = await created();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.recordStage(turn.turnId, 'stt', makeSttOutput(`worker ${i}`), makeTiming())),
      );
      const kept = (await store.get(turn.turnId))?.stages.stt?.output.text;
      expect(kept).toMatch(/^worker \d+$/);
      for (const result of results) expect(result.stages.stt?.output.text).toBe(kept);
    });

    it('records different stages independently, also at once', async () => {
      const turn = await created();
      await Promise.all([
        store.recordStage(turn.turnId, 'stt', makeSttOutput('ouvi'), makeTiming()),
        store.recordStage(turn.turnId, 'llm', makeLlmOutput('respondi'), makeTiming()),
      ]);
      const stored = await store.get(turn.turnId);
      expect(stored?.stages.stt?.output.text).toBe('ouvi');
      expect(stored?.stages.llm?.output.text).toBe('respondi');
      expect(stored?.stages.tts).toBeUndefined();
    });

    it('refuses to record a stage on an unknown turn with NotFoundError', async () => {
      const error: unknown = await store.recordStage(newTurnId(), 'stt', makeSttOutput('x'), makeTiming()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe('turn_not_found');
    });

    it('rejects a stage output that does not match the schema', async () => {
      const turn = await created();
      const bad = { text: 'sem provider' } as unknown as SttOutput;
      await expect(store.recordStage(turn.turnId, 'stt', bad, makeTiming())).rejects.toThrow();
      expect((await store.get(turn.turnId))?.stages.stt).toBeUndefined();
    });

    it('marks a queued turn running, and nothing else', async () => {
      const turn = await created();
      await store.markRunning(turn.turnId);
      expect((await store.get(turn.turnId))?.status).toBe('running');
      await store.markRunning(turn.turnId);
      expect((await store.get(turn.turnId))?.status).toBe('running');
      await store.complete(turn.turnId, new Date());
      await store.markRunning(turn.turnId);
      expect((await store.get(turn.turnId))?.status).toBe('completed');
      await expect(store.markRunning(newTurnId())).resolves.toBeUndefined();
    });

    it('completes once: the second complete returns false and keeps the first time', async () => {
      const turn = await created();
      await store.markRunning(turn.turnId);
      const at = new Date('2026-01-02T03:04:05.678Z');
      expect(await store.complete(turn.turnId, at)).toBe(true);
      expect(await store.complete(turn.turnId, new Date())).toBe(false);
      const stored = await store.get(turn.turnId);
      expect(stored?.status).toBe('completed');
      expect(stored?.completedAt).toEqual(at);
    });

    it('completes a turn straight from queued', async () => {
      const turn = await created();
      expect(await store.complete(turn.turnId, new Date())).toBe(true);
    });

    it('never fails a completed turn', async () => {
      const turn = await created();
      await store.complete(turn.turnId, new Date());
      expect(await store.fail(turn.turnId, { stage: 'tts', code: 'late', message: 'too late' }, new Date())).toBe(false);
      const stored = await store.get(turn.turnId);
      expect(stored?.status).toBe('completed');
      expect(stored?.error).toBeUndefined();
    });

    it('fails once, keeping the first error, and a failed turn does not complete', async () => {
      const turn = await created();
      await store.markRunning(turn.turnId);
      const error = { stage: 'llm' as const, code: 'provider_down', message: 'o provedor caiu' };
      expect(await store.fail(turn.turnId, error, new Date())).toBe(true);
      expect(await store.fail(turn.turnId, { stage: 'tts', code: 'other', message: 'other' }, new Date())).toBe(false);
      expect(await store.complete(turn.turnId, new Date())).toBe(false);
      const stored = await store.get(turn.turnId);
      expect(stored?.status).toBe('failed');
      expect(stored?.error).toEqual(error);
    });

    it('keeps an end and a stage written before the turn document, and shows them once it is created (first end wins)', async () => {
      // The live path may end a turn before the producer's insert lands: the two are written side by side.
      const turn = makeTurn();
      expect(await store.get(turn.turnId)).toBeNull();
      expect(await store.saveStage(turn.turnId, 'stt', { output: makeSttOutput('cedo'), timing: makeTiming() })).toBe(true);
      const error = { stage: 'llm' as const, code: 'early', message: 'falhou antes do registro' };
      expect(await store.fail(turn.turnId, error, new Date())).toBe(true);
      expect(await store.complete(turn.turnId, new Date())).toBe(false);
      expect(await store.get(turn.turnId)).toBeNull();
      expect(await store.create(turn)).toBe(true);
      const stored = await store.get(turn.turnId);
      expect(stored?.status).toBe('failed');
      expect(stored?.error).toEqual(error);
      expect(stored?.stages.stt?.output.text).toBe('cedo');
    });

    it('saves a stage once without reading the turn back, and interrupts a turn with what was heard', async () => {
      const turn = await created();
      expect(await store.saveStage(turn.turnId, 'llm', { output: makeLlmOutput('primeiro'), timing: makeTiming() })).toBe(true);
      expect(await store.saveStage(turn.turnId, 'llm', { output: makeLlmOutput('segundo'), timing: makeTiming() })).toBe(false);
      const interruption = { heardText: 'primeiro', playedMs: 800, sentencesHeard: 1 };
      expect(await store.interrupt(turn.turnId, interruption, new Date(), { firstAudioMs: 420 })).toBe(true);
      expect(await store.complete(turn.turnId, new Date())).toBe(false);
      const stored = await store.get(turn.turnId);
      expect(stored).toMatchObject({ status: 'interrupted', interruption, timeline: { firstAudioMs: 420 } });
      expect(stored?.stages.llm?.output.text).toBe('primeiro');
    });

    it('lets exactly one of complete and fail win when they race', async () => {
      const turn = await created();
      const outcomes = await Promise.all([
        store.complete(turn.turnId, new Date()),
        store.fail(turn.turnId, { stage: 'tts', code: 'x', message: 'x' }, new Date()),
        store.complete(turn.turnId, new Date()),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });

    it("lists a session's turns newest first, with a limit", async () => {
      const sessionId = newSessionId();
      const base = Date.now() - 60_000;
      const turns: Turn[] = [];
      for (let i = 0; i < 5; i += 1) turns.push(await created({ sessionId, createdAt: new Date(base + i * 1000) }));
      await created({ createdAt: new Date(base + 10_000) }); // another session
      const all = await store.listBySession(sessionId);
      expect(all.map((t) => t.turnId)).toEqual(turns.map((t) => t.turnId).reverse());
      const two = await store.listBySession(sessionId, { limit: 2 });
      expect(two.map((t) => t.turnId)).toEqual([turns[4]!.turnId, turns[3]!.turnId]);
      expect(await store.listBySession(newSessionId())).toEqual([]);
      expect(await store.listBySession(sessionId, { limit: 0 })).toEqual([]);
    });
  });
}
