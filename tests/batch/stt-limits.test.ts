// The STT provider's limits on real Redis: the shared request window (live turns may use the
// whole limit, batch work the limit minus the live reserve, a batch 429 backs off batch work
// only), the audio budget's live/batch split, and VOXQ_STT_LIVE_RESERVE.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import { AudioBudget } from '../../src/shared/rate-limit/audio-budget.js';
import { RequestWindow } from '../../src/shared/rate-limit/request-window.js';
import { liveReserveOf, sttLimitsFrom, type SttCaller } from '../../src/shared/rate-limit/stt-limits.js';
import { seededRandom } from '../support/seeded-random.js';

const redisA = new Redis(inject('redisUrl'));
const redisB = new Redis(inject('redisUrl'));
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redisA.keys(`${prefix}:*`);
    if (keys.length) await redisA.del(...keys);
  }
  await Promise.all([redisA.quit(), redisB.quit()]);
});

function uniquePrefix(): string {
  const prefix = `vw${randomBytes(5).toString('hex')}`;
  prefixes.push(prefix);
  return prefix;
}

/** A clock the test moves by hand. */
function manualClock(start = 5_000_000): { now: () => number; advance(ms: number): number } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('request window', () => {
  it('never holds more than the limit in any window, nor batch more than its share, with acquirers racing on two connections', async () => {
    const windowMs = 1000;
    const limit = 10;
    const liveReserve = 3;
    const clock = manualClock();
    const prefix = uniquePrefix();
    const [onA, onB] = [redisA, redisB].map((redis) => new RequestWindow({ redis, prefix, limit, liveReserve, windowMs, graceMs: 100, now: clock.now }));
    if (!onA || !onB) throw new Error('two windows expected');
    const random = seededRandom(7);
    const grants: { at: number; caller: SttCaller }[] = [];
    for (let step = 0; step < 400; step += 1) {
      const at = clock.advance(Math.floor(random() * 40));
      const callers = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        const caller: SttCaller = random() < 0.15 ? 'live' : 'batch';
        return { window: random() < 0.5 ? onA : onB, caller };
      });
      // Every caller of a step at once, spread over both connections.
      const slots = await Promise.all(callers.map((c, i) => c.window.acquire(c.caller, `call-${step}-${i}`)));
      slots.forEach((slot, i) => {
        expect(slot.waitMs).toBeGreaterThanOrEqual(0);
        if (slot.waitMs === 0) grants.push({ at, caller: callers[i]?.caller ?? 'live' });
      });
    }
    let busiest = 0;
    for (const grant of grants) {
      const inWindow = grants.filter((g) => g.at > grant.at - windowMs && g.at <= grant.at);
      expect(inWindow.length).toBeLessThanOrEqual(limit);
      expect(inWindow.filter((g) => g.caller === 'batch').length).toBeLessThanOrEqual(limit - liveReserve);
      busiest = Math.max(busiest, inWindow.length);
    }
    // The window was kept full, not just never over.
    expect(busiest).toBe(limit);
    expect(grants.length).toBeGreaterThan(((clock.now() - 5_000_000) / windowMs) * (limit - liveReserve) * 0.8);
  });

  it('grants a live call at once while the window has room, and tells each caller when its slot frees', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const window = new RequestWindow({ redis: redisA, prefix: uniquePrefix(), limit: 5, liveReserve: 2, windowMs: 1000, now: clock.now });
    expect(window.batchLimit).toBe(3);
    for (const id of ['b1', 'b2', 'b3']) {
      expect((await window.acquire('batch', id)).waitMs).toBe(0);
      clock.advance(100);
    }
    // Batch holds its share (3 of 5): the next batch call waits for b1 to leave the window.
    expect((await window.acquire('batch', 'b4')).waitMs).toBe(t0 + 1000 - clock.now());
    // Live turns still start at once, up to the whole limit.
    expect((await window.acquire('live', 'l1')).waitMs).toBe(0);
    expect((await window.acquire('live', 'l2')).waitMs).toBe(0);
    expect(await window.counts()).toEqual({ total: 5, batch: 3 });
    const full = await window.acquire('live', 'l3');
    expect(full.waitMs).toBe(t0 + 1000 - clock.now());

    // b1 leaves: batch has room under its own share, but l3 waits for that slot, so it is l3's.
    clock.advance(full.waitMs);
    const b4 = await window.acquire('batch', 'b4');
    expect(b4.waitMs).toBeGreaterThan(0);
    expect((await window.acquire('live', 'l3')).waitMs).toBe(0);
    expect((await window.acquire('batch', 'b4')).waitMs).toBeGreaterThan(0);
    expect(await window.counts()).toEqual({ total: 5, batch: 2 });
  });

  it("gives the next free slot to batch work once a waiting live turn's claim lapses", async () => {
    const clock = manualClock();
    const window = new RequestWindow({ redis: redisA, prefix: uniquePrefix(), limit: 2, liveReserve: 1, windowMs: 1000, graceMs: 200, now: clock.now });
    expect((await window.acquire('batch', 'b1')).waitMs).toBe(0);
    clock.advance(500);
    expect((await window.acquire('live', 'l1')).waitMs).toBe(0);
    const wait = (await window.acquire('live', 'l2')).waitMs;
    expect(wait).toBe(500);
    clock.advance(wait); // b1 leaves the window
    expect((await window.acquire('batch', 'b2')).waitMs).toBe(200); // l2's claim on that slot holds until then
    clock.advance(200);
    expect((await window.acquire('batch', 'b2')).waitMs).toBe(0); // l2 never came back
  });

  it('tells waiting batch calls one slot each, as the calls in the window leave it', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const window = new RequestWindow({ redis: redisA, prefix: uniquePrefix(), limit: 3, liveReserve: 0, windowMs: 1000, now: clock.now });
    for (const id of ['b1', 'b2', 'b3']) {
      expect((await window.acquire('batch', id)).waitMs).toBe(0);
      clock.advance(100);
    }
    const waits: number[] = [];
    for (const id of ['w1', 'w2', 'w3', 'w4', 'w5']) waits.push((await window.acquire('batch', id)).waitMs);
    const now = clock.now();
    // b1, b2, b3 leave at 1000, 1100, 1200; the 4th and 5th waiters get the slots those free in turn.
    expect(waits.map((w) => now + w - t0)).toEqual([1000, 1100, 1200, 2000, 2100]);
    // Each comes back at its time and gets the slot.
    clock.advance(waits[0] ?? 0);
    expect((await window.acquire('batch', 'w1')).waitMs).toBe(0);
    clock.advance(100);
    expect((await window.acquire('batch', 'w2')).waitMs).toBe(0);
    // A waiter asking again keeps its place behind those still waiting; a new one comes after it.
    expect(clock.now() + (await window.acquire('batch', 'w5')).waitMs - t0).toBe(2100);
    expect(clock.now() + (await window.acquire('batch', 'w6')).waitMs - t0).toBe(2200);
  });

  it('gives a slot back when the call never reached the provider', async () => {
    const window = new RequestWindow({ redis: redisA, prefix: uniquePrefix(), limit: 2, liveReserve: 0, windowMs: 1000, now: manualClock().now });
    const live = await window.acquire('live', 'l1');
    const batch = await window.acquire('batch', 'b1');
    const refused = await window.acquire('batch', 'b2');
    expect(refused.waitMs).toBeGreaterThan(0);
    await refused.release(); // nothing was taken: nothing changes
    expect(await window.counts()).toEqual({ total: 2, batch: 1 });
    await batch.release();
    await live.release();
    expect(await window.counts()).toEqual({ total: 0, batch: 0 });
    expect((await window.acquire('batch', 'b2')).waitMs).toBe(0);
  });

  it('holds batch work off during a batch 429 backoff, never live turns', async () => {
    const window = new RequestWindow({ redis: redisA, prefix: uniquePrefix(), limit: 20, liveReserve: 4 });
    await window.backOffBatch(5000);
    await window.backOffBatch(1000); // a shorter backoff never shortens the running one
    const batch = await window.acquire('batch', 'b1');
    expect(batch.waitMs).toBeGreaterThan(1000);
    expect(batch.waitMs).toBeLessThanOrEqual(5000);
    expect((await window.acquire('live', 'l1')).waitMs).toBe(0);
    expect(await window.counts()).toEqual({ total: 1, batch: 0 });
    await redisA.del(window.backoffKey);
    expect((await window.acquire('batch', 'b1')).waitMs).toBe(0);
  });

  it("runs on Redis's clock by default, over 60 s and a margin", async () => {
    const window = new RequestWindow({ redis: redisB, prefix: uniquePrefix(), limit: 2, liveReserve: 1 });
    expect((await window.acquire('live', 'l1')).waitMs).toBe(0);
    expect((await window.acquire('live', 'l2')).waitMs).toBe(0);
    const wait = (await window.acquire('live', 'l3')).waitMs;
    expect(wait).toBeGreaterThan(55_000);
    expect(wait).toBeLessThanOrEqual(61_000);
  });

  it('with no request limit: live calls touch nothing, batch calls only keep the 429 backoff', async () => {
    const prefix = uniquePrefix();
    const window = new RequestWindow({ redis: redisA, prefix, limit: 0, liveReserve: 0 });
    for (let i = 0; i < 50; i += 1) expect((await window.acquire(i % 2 ? 'live' : 'batch', `c${i}`)).waitMs).toBe(0);
    expect(await redisA.keys(`${prefix}:*`)).toEqual([]);
    await window.backOffBatch(3000);
    expect((await window.acquire('batch', 'b')).waitMs).toBeGreaterThan(0);
    expect((await window.acquire('live', 'l')).waitMs).toBe(0);
  });
});

describe('audio budget, live and batch', () => {
  it('lets batch work use the budget less the live share, live turns all of it', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const budget = new AudioBudget({ redis: redisA, prefix: uniquePrefix(), audioSecondsPerHour: 10, liveReserveShare: 0.2, windowMs: 60_000, now: clock.now });
    expect(budget.batchLimitMs).toBe(8000);
    expect((await budget.reserve('b1', 6000, 'batch')).waitMs).toBe(0);
    clock.advance(1000);
    // 6 + 3 s is over the batch share (8 s): wait for b1's seconds to leave the window.
    expect((await budget.reserve('b2', 3000, 'batch')).waitMs).toBe(t0 + 60_000 - clock.now());
    expect((await budget.reserve('l1', 3000, 'live')).waitMs).toBe(0);
    expect(await budget.usedMs()).toBe(9000);
    expect(await budget.batchUsedMs()).toBe(6000);
    clock.advance(1000);
    expect((await budget.reserve('b3', 1000, 'batch')).waitMs).toBe(0); // 7 s of batch, 10 s in all
    expect((await budget.reserve('l2', 500, 'live')).waitMs).toBe(t0 + 60_000 - clock.now());
    await expect(budget.reserve('huge', 9000, 'batch')).rejects.toThrow(/batch share/);
    expect((await budget.reserve('long', 9000, 'live')).waitMs).toBeGreaterThan(0);
  });
});

describe('VOXQ_STT_LIVE_RESERVE', () => {
  it('defaults to 20 % of the request limit, for requests and audio seconds alike', () => {
    const limits = sttLimitsFrom(loadConfig({}));
    expect(limits).toMatchObject({ requestsPerMinute: 20, liveReserveRequests: 4, liveReserveShare: 0.2 });
  });

  it('takes a number of requests per minute or a percentage', () => {
    expect(sttLimitsFrom(loadConfig({ VOXQ_STT_LIVE_RESERVE: '5' }))).toMatchObject({ liveReserveRequests: 5, liveReserveShare: 0.25 });
    expect(sttLimitsFrom(loadConfig({ VOXQ_STT_LIVE_RESERVE: '12.5%', VOXQ_STT_REQUESTS_PER_MINUTE: '240' }))).toMatchObject({ liveReserveRequests: 30, liveReserveShare: 0.125 });
    expect(sttLimitsFrom(loadConfig({ VOXQ_STT_LIVE_RESERVE: '0' }))).toMatchObject({ liveReserveRequests: 0, liveReserveShare: 0 });
    // A percentage rounds up, but batch work always keeps at least one request.
    expect(liveReserveOf({ percent: 20 }, 2)).toEqual({ requests: 1, share: 0.2 });
    expect(liveReserveOf({ percent: 20 }, 1)).toEqual({ requests: 0, share: 0.2 });
    expect(liveReserveOf({ percent: 20 }, 0)).toEqual({ requests: 0, share: 0.2 });
  });

  it('refuses what leaves batch work nothing, naming the variable', () => {
    for (const env of [
      { VOXQ_STT_LIVE_RESERVE: '20' },
      { VOXQ_STT_LIVE_RESERVE: '100%' },
      { VOXQ_STT_LIVE_RESERVE: 'a fifth' },
      { VOXQ_STT_LIVE_RESERVE: '-1' },
      { VOXQ_STT_LIVE_RESERVE: '3', VOXQ_STT_REQUESTS_PER_MINUTE: '0' },
    ]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/VOXQ_STT_LIVE_RESERVE: /);
    }
  });
});
