// client.enqueueTurn under arbitrary requests (fast-check), on real Redis and the test database:
// each call succeeds (a valid request in a session that exists) or throws an InputError,
// NotFoundError or ConflictError; a refused call leaves no Redis key, job or turn behind.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16 } from '../../src/shared/audio/wav.js';
import { newSessionId, newTurnId } from '../../src/shared/contracts/ids.js';
import { ConflictError, InputError, NotFoundError } from '../../src/shared/errors.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { corrupted, hostileValue, validRequest } from './support/arbitraries.js';

let pipeline: Pipeline;
let sessionId: string;

beforeAll(async () => {
  // No workers: accepted turns wait in their queue, so what a call left is all there is to see.
  pipeline = await startPipeline({ workers: false });
  sessionId = (await pipeline.client.createSession('hostile-property')).sessionId;
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
});

/**
 * Redis keys and job counts. A turn-id claim left by a refused request is checked on its own
 * below (a known gap in turn-intake.ts); it is left out here so that this property finds others.
 */
async function snapshot(): Promise<{ keys: string[]; jobs: number[] }> {
  return {
    keys: (await pipeline.keys()).filter((k) => !k.includes(':turn-ids:')).sort(),
    jobs: await Promise.all(pipeline.queues.all().map((q) => q.count())),
  };
}

const tinyWav = encodeWavPcm16(new Int16Array(1600), 16_000);

/** Requests aimed at the real session (valid or with one hostile field), at unknown sessions, or anything at all. */
const request = fc.oneof(
  { weight: 3, arbitrary: corrupted.map(({ req }) => req) },
  { weight: 2, arbitrary: validRequest },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.record({ sessionId: hostileValue, text: hostileValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ audio: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(tinyWav), hostileValue) }) },
).chain((req) =>
  // Most go to the session that exists; a few keep their own (unknown or hostile) sessionId.
  fc.constantFrom('ours', 'ours', 'ours', 'theirs').map((whose) =>
    whose === 'ours' && typeof req === 'object' && req !== null && !Array.isArray(req) ? { ...req, sessionId } : req,
  ),
);

describe('enqueueTurn with arbitrary requests', () => {
  it('accepts or refuses with a domain error, and a refusal leaves nothing behind', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const before = await snapshot();
        let error: unknown;
        try {
          await pipeline.client.enqueueTurn(req as never);
          accepted += 1;
        } catch (e) {
          error = e;
        }
        if (error === undefined) return;
        refused += 1;
        const kind = error instanceof InputError || error instanceof NotFoundError || error instanceof ConflictError;
        expect(kind, `${(error as Error).name}: ${(error as Error).message}`).toBe(true);
        expect((error as Error).message.length).toBeGreaterThan(5);
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 150 },
    );
    // Both kinds were tried.
    expect(accepted).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(5);
  }, 300_000);

  it('names an unknown session, and the id shapes the schema refuses', async () => {
    const unknown = newSessionId();
    await expect(pipeline.client.enqueueTurn({ sessionId: unknown, text: 'oi' })).rejects.toMatchObject({ code: 'session_not_found', message: expect.stringContaining(unknown) as string });
    for (const sessionId of [{ $gt: '' }, 'sess_x:y', `${unknown}\u0000`, `sess_а${unknown.slice(6)}`, unknown.replace(/-/g, '.'), `../${unknown}`, unknown.toUpperCase()]) {
      const error = await pipeline.client.enqueueTurn({ sessionId: sessionId as string, text: 'oi' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(/sessionId: /);
    }
  });

  // Expected to fail until TurnIntake.accept (turn-intake.ts) checks the input (textInput,
  // checkAudioInput) before it claims the turnId, or gives the claim back when the check throws:
  // today a refused request keeps its turnId claimed for RUNNING_TTL_MS, and the corrected retry
  // with the same turnId is refused as turn_id_conflict. When it passes, make it an ordinary `it`.
  it('a request refused after its turnId was claimed leaves the id free for the corrected retry', async () => {
    const turnId = newTurnId();
    await expect(pipeline.client.enqueueTurn({ sessionId, turnId, text: '   ' })).rejects.toMatchObject({ code: 'text_empty' });
    expect(await pipeline.keys()).not.toContainEqual(expect.stringContaining(turnId));
    const handle = await pipeline.client.enqueueTurn({ sessionId, turnId, text: 'oi' });
    expect(handle.turnId).toBe(turnId);
  });

  it('the same with audio: refused as not audio, then the real recording with the same turnId', async () => {
    const turnId = newTurnId();
    await expect(pipeline.client.enqueueTurn({ sessionId, turnId, audio: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: 'audio_not_audio' });
    const handle = await pipeline.client.enqueueTurn({ sessionId, turnId, audio: tinyWav });
    expect(handle.turnId).toBe(turnId);
  });

  it('a refused barge-in request cancels nothing: the turn in flight runs on', async () => {
    const { sessionId: own } = await pipeline.client.createSession('barge-in-refused');
    await pipeline.client.enqueueTurn({ sessionId: own, text: 'a primeira' });
    await expect(pipeline.client.enqueueTurn({ sessionId: own, text: '   ', bargeIn: true })).rejects.toMatchObject({ code: 'text_empty' });
    // Still in flight: cancelling it now is what cancels something.
    expect(await pipeline.client.cancelSession(own)).toBe(true);
  });
});
