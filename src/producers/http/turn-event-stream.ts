// GET /v1/turns/:turnId/events: a turn's progress as server-sent events, for a UI that shows
// "transcribing… replying… speaking". The stream opens with the turn as it is now, sends a
// `stage` event as each stage starts, goes back to wait (a retry), completes or fails, and ends
// with `done` (the finished turn); EventSource clients close on `done`, or they reconnect and get
// the snapshot and `done` again. A turn that cannot finish — unfinished, and none of its stage jobs left in the queues
// (removed, or lost with Redis) — ends the stream with `stalled` instead of waiting forever.
//
// Stage events come from BullMQ's streams (stage-progress.ts), one stream per queue, so they can
// arrive out of order: a stage hands the turn on before its own job completes. A stage that
// starts therefore reports the one before it on the route completed first (its job is only added
// once that output is recorded), and at the end every stage the turn document holds is reported
// completed before `done`.
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { routeOf, STAGES, type StageName, type Turn, type TurnRoute } from '../../shared/contracts/turn.js';
import { TimeoutError } from '../../shared/errors.js';
import type { VoxqClient } from '../sdk/voxq-client.js';
import { HttpError } from './http-errors.js';
import { API_PREFIX, turnParamsSchema, turnView } from './schemas.js';
import type { StageProgress, StageProgressFeed, StageStatus } from './stage-progress.js';
import { parseInput } from './validate.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** The end is awaited in slices of this long; between slices the turn's jobs are looked at. */
const WAIT_SLICE_MS = 30_000;
/** A turn with no job may be between its document and its first job (enqueueTurn): look again after this. */
const STALL_GRACE_MS = 1000;

const isFinished = (turn: Turn) => turn.status === 'completed' || turn.status === 'failed';
const isTerminal = (status: StageStatus | undefined) => status === 'completed' || status === 'failed';

/** The stage whose recorded output adds this stage's job (none for a route's first stages). */
function handedOnBy(route: TurnRoute, stage: StageName): StageName | undefined {
  if (stage === 'tts') return 'llm';
  if (stage === 'llm' && route === 'stt-llm-tts') return 'stt';
  return undefined;
}

export function registerTurnEventStream(app: FastifyInstance, client: VoxqClient, feed: StageProgressFeed): void {
  const open = new Set<AbortController>();
  let shuttingDown = false;
  // Open streams would hold the server's close until their turns end: end them first (and
  // close their connections, which would otherwise wait out the keep-alive timeout).
  app.addHook('preClose', (done) => {
    shuttingDown = true;
    for (const stream of open) stream.abort();
    done();
  });

  app.get(`${API_PREFIX}/turns/:turnId/events`, { config: { scope: 'turns:read' } }, async (request, reply) => {
    const { turnId } = parseInput(turnParamsSchema, request.params, 'turn id');
    if (shuttingDown) throw new HttpError(503, 'shutting_down', 'the API is shutting down: connect to another instance');
    const res = reply.raw;
    // Registered before the first await: a client that leaves, or a shutdown, at any point ends the stream.
    const stream = new AbortController();
    open.add(stream);
    res.on('close', () => stream.abort());
    let unsubscribe = () => undefined as void;
    try {
      const reported = new Map<StageName, StageStatus>();
      let write: ((progress: StageProgress) => void) | undefined;
      const early: StageProgress[] = [];
      // Listen before reading the turn, so nothing between the two is missed.
      unsubscribe = await feed.subscribe(turnId, (progress) => (write ? write(progress) : early.push(progress)));
      const turn = await client.getTurn(turnId); // unknown turn: a 404 like every other route
      if (stream.signal.aborted) {
        if (shuttingDown) throw new HttpError(503, 'shutting_down', 'the API is shutting down: connect to another instance');
        return reply.hijack(); // the client left: nobody to answer
      }

      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const route = routeOf(turn);
      const stageEvent = (progress: StageProgress) => {
        const previous = progress.status === 'running' ? handedOnBy(route, progress.stage) : undefined;
        if (previous) stageEvent({ stage: previous, status: 'completed' });
        // A stage may go running → waiting → running (retries); nothing comes after its end.
        const before = reported.get(progress.stage);
        if (isTerminal(before) || before === progress.status) return;
        reported.set(progress.stage, progress.status);
        sendEvent(res, 'stage', progress);
      };
      try {
        for (const stage of STAGES) if (turn.stages[stage]) reported.set(stage, 'completed');
        sendEvent(res, 'turn', turnView(turn));
        write = stageEvent;
        for (const progress of early.splice(0)) stageEvent(progress);
        const end = isFinished(turn) ? { turn } : await turnEnd(client, feed, turnId, stream.signal, stageEvent);
        if (end && 'turn' in end) {
          for (const stage of STAGES) if (end.turn.stages[stage]) stageEvent({ stage, status: 'completed' });
          sendEvent(res, 'done', turnView(end.turn));
        } else if (end) {
          sendEvent(res, 'stalled', { ...turnView(end.stalled), message: `turn ${turnId} is ${end.stalled.status} but none of its stage jobs is queued or running (removed, or lost with Redis): it will not finish` });
        }
      } catch (error) {
        if (!stream.signal.aborted) request.log.warn({ turnId, err: error }, 'turn event stream ended early');
      } finally {
        clearInterval(heartbeat);
        const socket = res.socket; // detached from the response once it has ended
        res.end(() => {
          if (shuttingDown) socket?.destroy();
        });
      }
    } finally {
      unsubscribe();
      open.delete(stream);
    }
  });
}

/**
 * How the turn ends: finished, or stalled (unfinished with no stage job left); undefined when
 * the stream is aborted first. Stages found running when the wait starts are reported.
 */
async function turnEnd(
  client: VoxqClient,
  feed: StageProgressFeed,
  turnId: string,
  signal: AbortSignal,
  report: (progress: StageProgress) => void,
): Promise<{ turn: Turn } | { stalled: Turn } | undefined> {
  let first = true;
  while (!signal.aborted) {
    const activity = await feed.activity(turnId);
    // Started before we listened: its `active` event is gone, its state is not.
    if (first) for (const stage of activity.running) report({ stage, status: 'running' });
    first = false;
    if (!activity.pending) {
      const stalled = await stalledTurn(client, feed, turnId, signal);
      if (stalled) return isFinished(stalled) ? { turn: stalled } : { stalled };
    }
    try {
      await client.waitForTurn(turnId, { timeoutMs: WAIT_SLICE_MS, includeAudio: false, signal });
      return { turn: await client.getTurn(turnId) };
    } catch (error) {
      if (signal.aborted) return undefined;
      if (error instanceof TimeoutError) continue;
      // A failed turn rejects the wait: it is finished all the same.
      const turn = await client.getTurn(turnId);
      if (!isFinished(turn)) throw error;
      return { turn };
    }
  }
  return undefined;
}

/** The turn if, after a grace period, it is finished or still has no job; undefined if work showed up. */
async function stalledTurn(client: VoxqClient, feed: StageProgressFeed, turnId: string, signal: AbortSignal): Promise<Turn | undefined> {
  const now = await client.getTurn(turnId);
  if (isFinished(now)) return now;
  await delay(STALL_GRACE_MS, undefined, { signal }).catch(() => undefined);
  if (signal.aborted) return undefined;
  const again = await client.getTurn(turnId);
  if (isFinished(again) || !(await feed.activity(turnId)).pending) return again;
  return undefined;
}

function sendEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
