// Barge-in across hosts: two worker processes with paced fakes (tests/support/paced-worker.ts)
// and the caller in this process. A cancel at every point of a turn — queued for STT, in STT, in
// the LLM stream, between TTS sentences, during the last sentence — leaves nothing running on
// any host: no provider call or job starts after cancelSession returns, what was running is
// aborted, no event follows `interrupted`, no queued job is left, the history holds what was
// heard, and the session's next turn sees it. A TTS worker killed mid-sentence: the sentence is
// synthesized again elsewhere and delivered once.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { configSchema } from '../../src/shared/config.js';
import { connect } from '../../src/producers/sdk/connect.js';
import type { TurnEvent } from '../../src/producers/sdk/turn-events.js';
import type { TurnHandle, VoxqClient } from '../../src/producers/sdk/voxq-client.js';
import { INTERRUPTED_MARK } from '../../src/shared/store/session-rules.js';
import { dropTestState, stopProcesses } from '../support/e2e-cleanup.js';
import { testMongoUrl, uniqueDbName } from '../support/mongo.js';
import { tokenize, type PacedTimings, type ProviderCall } from '../support/paced-fakes.js';
import { spawnScript } from '../support/script-process.js';
import { speakPtBr } from '../support/speech.js';
import type { VoxqProcess } from '../support/voxq-process.js';

const REPLY = 'Claro, vou explicar. Primeiro, abra o aplicativo. Depois, toque em pagamentos. Por fim, confirme o valor.';
const SENTENCES = ['Claro, vou explicar.', 'Primeiro, abra o aplicativo.', 'Depois, toque em pagamentos.', 'Por fim, confirme o valor.'];
const TIMINGS: PacedTimings = { sttMs: 400, firstTokenMs: 300, tokensPerS: 12, ttsMsPerSentence: 350 };

type Call = (ProviderCall | { event: 'job'; at: number; jobId: string }) & { host: string };

let prefix: string;
let dbName: string;
let env: Record<string, string>;
let redis: Redis;
let subscriber: Redis;
let client: VoxqClient;
const processes: VoxqProcess[] = [];

async function startWorker(extra: Record<string, string> = {}): Promise<VoxqProcess> {
  const worker = spawnScript('tests/support/paced-worker.ts', { ...env, ...extra });
  processes.push(worker);
  await worker.waitForLog('paced worker ready', 30_000);
  return worker;
}

async function calls(): Promise<Call[]> {
  return (await redis.lrange(`${prefix}:paced-calls`, 0, -1)).map((line) => JSON.parse(line) as Call);
}

/** What wakes a waiter: every provider call or job a worker reports (published), every event a reader gets. */
const wakers = new Set<() => void>();
const wake = () => {
  for (const check of [...wakers]) check();
};

/** Resolves with `probe`'s first defined value, checked now and at every wake (no fixed sleeps). */
function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let running = false;
    let again = false;
    const stop = () => {
      clearTimeout(timer);
      wakers.delete(check);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const check = (): void => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      probe().then(
        (value) => {
          running = false;
          if (value !== undefined) {
            stop();
            resolve(value);
          } else if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) => {
          stop();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    wakers.add(check);
    check();
  });
}

/** Every provider call that started, on any host, has ended or was aborted. */
async function callsSettled(): Promise<true | undefined> {
  const all = await calls();
  const started = all.filter((c) => c.event === 'start').length;
  const ended = all.filter((c) => c.event === 'end' || c.event === 'aborted').length;
  return started === ended ? true : undefined;
}

/** Reads the turn's events in the background; resolves with all of them at its end. */
function readAll(turn: TurnHandle): { events: TurnEvent[]; done: Promise<TurnEvent[]> } {
  const events: TurnEvent[] = [];
  const done = (async () => {
    for await (const event of turn.events()) {
      events.push(event);
      wake();
    }
    return events;
  })();
  return { events, done };
}

beforeAll(async () => {
  prefix = `vb${randomBytes(4).toString('hex')}`;
  dbName = uniqueDbName('barge');
  env = {
    REDIS_URL: inject('redisUrl'),
    MONGO_URL: testMongoUrl(),
    VOXQ_MONGO_DB: dbName,
    VOXQ_PREFIX: prefix,
    VOXQ_LOG_LEVEL: 'info',
    VOXQ_LOCK_DURATION_MS: '2000',
    PACED_TIMINGS: JSON.stringify(TIMINGS),
    PACED_REPLY: REPLY,
    PACED_CONCURRENCY: '2',
  };
  redis = new Redis(inject('redisUrl'));
  subscriber = new Redis(inject('redisUrl'));
  subscriber.on('message', wake);
  await subscriber.subscribe(`${prefix}:paced-calls`);
  const config = configSchema.parse({ ...env, VOXQ_LOG_LEVEL: 'silent' });
  client = await connect({ config, resultTimeoutMs: 30_000 });
  expect(tokenize(REPLY).join('')).toBe(REPLY);
});

afterEach(() => stopProcesses(processes));

afterAll(async () => {
  await stopProcesses(processes);
  await client.close();
  await redis.quit();
  await subscriber.quit();
  await dropTestState({ prefix, dbName });
});

interface Point {
  name: string;
  /** Starts the turn and returns once it is at the point where it is cancelled. */
  reach(turn: TurnHandle, events: TurnEvent[]): Promise<void>;
  /** The reply as heard (no playedMs: the chunks read). */
  heard: (events: TurnEvent[]) => string;
  stages?: string;
}

const sentencesRead = (events: TurnEvent[]) =>
  events.flatMap((e) => (e.type === 'sentence' ? [e.text] : [])).join(' ');

const POINTS: Point[] = [
  {
    name: 'queued for STT (no STT worker yet)',
    stages: 'llm,tts',
    reach: async (turn) => {
      await until(async () => ((await client.getTurn(turn.turnId)).status === 'queued' ? true : undefined), 'the turn to be queued');
    },
    heard: () => '',
  },
  {
    name: 'in STT',
    reach: async () => {
      await until(async () => ((await calls()).some((c) => c.event === 'start' && 'provider' in c && c.provider === 'stt') ? true : undefined), 'the STT call');
    },
    heard: () => '',
  },
  {
    name: 'in the LLM stream',
    reach: async (_turn, events) => {
      await until(() => Promise.resolve(events.some((e) => e.type === 'text') ? true : undefined), 'the first text delta');
    },
    heard: () => '',
  },
  {
    name: 'between TTS sentences',
    reach: async (_turn, events) => {
      await until(() => Promise.resolve(events.some((e) => e.type === 'sentence' && e.index === 0) ? true : undefined), 'the first sentence');
    },
    heard: sentencesRead,
  },
  {
    name: 'during the last sentence',
    reach: async () => {
      await until(
        async () => ((await calls()).some((c) => c.event === 'start' && 'provider' in c && c.provider === 'tts' && c.text === SENTENCES[3]) ? true : undefined),
        'the last sentence to be in synthesis',
      );
    },
    heard: sentencesRead,
  },
];

describe('barge-in with the workers in two other processes', () => {
  for (const point of POINTS) {
    it(`cancelled ${point.name}: nothing runs after cancel on any host, the history holds what was heard, the next turn sees it`, async () => {
      await redis.del(`${prefix}:paced-calls`);
      await startWorker(point.stages ? { PACED_STAGES: point.stages } : {});
      if (!point.stages) await startWorker();
      const { sessionId } = await client.createSession(`u-${point.name}`);
      const turn = await client.enqueueTurn({ sessionId, audio: await speakPtBr('Como eu pago a conta?') });
      const reader = readAll(turn);
      await point.reach(turn, reader.events);

      expect(await client.cancelSession(sessionId)).toBe(true);
      const returnedAt = Date.now();
      const events = await reader.done;
      if (point.stages) await startWorker(); // an STT worker arrives late: the cancelled turn's job is gone
      // What was running when cancel returned has stopped (each call reports its end or abort).
      await until(callsSettled, 'every provider call to end');

      // The log ends with interrupted, once, and nothing after it.
      expect(events.at(-1)).toMatchObject({ type: 'end', status: 'interrupted' });
      expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
      const heard = point.heard(events);
      expect(events.at(-1)).toMatchObject({ heardText: heard });
      // Nothing of the turn starts after cancel returned, on any host; what ran was aborted at once.
      const after = (await calls()).filter((c) => c.at > returnedAt);
      expect(after.filter((c) => c.event === 'start' || c.event === 'job')).toEqual([]);
      // (How soon the aborted calls stop is measured by `npm run bench -- stream`: cancel_quiet_p99_ms.)
      // No job of the turn left waiting or delayed.
      for (const stage of ['stt', 'llm', 'tts']) {
        const left = await redis.zcard(`${prefix}:${stage}:delayed`);
        const waiting = await redis.llen(`${prefix}:${stage}:wait`);
        expect({ stage, left, waiting }).toEqual({ stage, left: 0, waiting: 0 });
      }
      const stored = await client.getTurn(turn.turnId);
      expect(stored.status).toBe('interrupted');
      expect(stored.interruption?.heardText).toBe(heard);
      const history = await client.history(sessionId);
      const assistant = history.filter((m) => m.role === 'assistant');
      if (heard === '') expect(assistant).toEqual([]);
      else expect(assistant.map((m) => [m.content, m.metadata.interrupted])).toEqual([[heard, true]]);

      // The session's next turn runs and sees the cut reply as cut off.
      const next = await client.enqueueTurn({ sessionId, text: 'E agora?' });
      expect((await next.result()).replyText).toBe(REPLY);
      const nextCall = (await calls()).find((c) => 'provider' in c && c.provider === 'llm' && c.text === 'E agora?');
      expect(nextCall).toBeDefined();
      if (heard !== '') {
        const messages = await client.history(sessionId);
        expect(messages.some((m) => m.metadata.interrupted === true)).toBe(true);
        expect(INTERRUPTED_MARK.length).toBeGreaterThan(0);
      }
    }, 60_000);
  }

  it('a TTS worker killed mid-sentence: the sentence is synthesized again elsewhere and delivered once', async () => {
    await redis.del(`${prefix}:paced-calls`);
    const victim = await startWorker({ PACED_STAGES: 'tts' });
    const { sessionId } = await client.createSession('u-kill');
    const turn = await client.enqueueTurn({ sessionId, text: 'Explique.' });
    const reader = readAll(turn);
    await startWorker({ PACED_STAGES: 'stt,llm' });
    const victimHost = await until(async () => {
      const started = (await calls()).find((c) => c.event === 'start' && 'provider' in c && c.provider === 'tts');
      return started?.host;
    }, 'a sentence in synthesis');
    expect(victimHost.endsWith(`:${victim.child.pid}`)).toBe(true);
    victim.kill('SIGKILL');
    await victim.exited;
    await startWorker({ PACED_STAGES: 'tts' });
    const events = await reader.done;
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'completed' });
    expect(events.flatMap((e) => (e.type === 'sentence' ? [e.index] : []))).toEqual([0, 1, 2, 3]);
    expect((await turn.result()).replyText).toBe(REPLY);
    const synthesized = (await calls()).filter((c) => c.event === 'start' && 'provider' in c && c.provider === 'tts');
    expect(synthesized.length).toBeGreaterThan(SENTENCES.length - 1);
    expect(new Set(synthesized.map((c) => c.host)).size).toBe(2);
  }, 90_000);
});
