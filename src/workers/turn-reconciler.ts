// No turn left behind. Every few seconds one worker process (elected by a Redis lease) looks at
// the turns accepted more than a grace period ago that have not ended. A turn with a live job
// (waiting, delayed, active) is left alone. Otherwise: an ending claimed but not written is
// finished; a job that failed for good fails its turn with that job's reason; and a turn whose job
// is gone (removed, its queue obliterated, lost with Redis) gets the stage that is due enqueued
// again — its input is in the live state or the record. A turn whose live state is gone but whose
// record is unfinished has its live state rebuilt from the record first. Cheap when all is well:
// one lease write and one range read per interval.
import { randomUUID } from 'node:crypto';
import { stageJobId } from '../shared/contracts/jobs.js';
import { routeOf, type StageName, type Turn } from '../shared/contracts/turn.js';
import type { TurnRef } from '../shared/live/live-turns.js';
import { eraseSession } from '../shared/live/session-erasure.js';
import { notAccepted } from '../shared/live/turn-ender.js';
import { describeFailure } from './run-stage.js';
import type { StageDeps } from './stage-deps.js';

export interface ReconcilerOptions {
  /** How often the leader looks (default 5 s). */
  intervalMs: number;
  /** VOXQ_PREFIX (where the sessions' keys are). */
  prefix: string;
  /** VOXQ_RETENTION_DAYS: sessions inactive this long are erased, once an hour (FerretDB has no TTL indexes). */
  retentionDays?: number | undefined;
  /** A turn younger than this is left to its jobs (default 10 s). */
  graceMs: number;
  /** Turns looked at per pass. */
  batch?: number;
}

export interface ReconcileReport {
  leader: boolean;
  checked: number;
  requeued: number;
  failed: number;
  resumed: number;
  /** Sessions erased by retention in this pass. */
  erased: number;
}

const RETENTION_EVERY_MS = 3600_000;
/** A turn still unconfirmed by its producer this long after it was enqueued is withdrawn (enqueueTurn has given up by then). */
export const UNCONFIRMED_AFTER_MS = 120_000;
const RETENTION_BATCH = 100;

const ALIVE = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export class TurnReconciler {
  private readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: StageDeps,
    private readonly options: ReconcilerOptions,
  ) {}

  private get leaseKey(): string {
    return `${this.deps.unfinished.key}:reconciler`;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((error: unknown) => this.deps.log.warn({ err: error }, 'reconciler pass failed; next pass retries'))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    const redis = this.deps.queues.connection;
    if ((await redis.get(this.leaseKey).catch(() => null)) === this.id) await redis.del(this.leaseKey).catch(() => 0);
  }

  /** One pass (exported for tests): only the lease holder works. */
  async tick(now = Date.now()): Promise<ReconcileReport> {
    const report: ReconcileReport = { leader: false, checked: 0, requeued: 0, failed: 0, resumed: 0, erased: 0 };
    if (!(await this.lead())) return report;
    report.leader = true;
    report.erased = await this.applyRetention(now);
    for (const ref of await this.deps.unfinished.olderThan(now - this.options.graceMs, this.options.batch ?? 200)) {
      report.checked += 1;
      const outcome = await this.reconcile(ref);
      if (outcome) report[outcome] += 1;
    }
    return report;
  }

  /** Erases the sessions past VOXQ_RETENTION_DAYS, at most once an hour across the cluster. */
  async applyRetention(now = Date.now(), force = false): Promise<number> {
    const days = this.options.retentionDays;
    if (days === undefined) return 0;
    const redis = this.deps.queues.connection;
    if (!force && (await redis.set(`${this.leaseKey}:retention`, String(now), 'PX', RETENTION_EVERY_MS, 'NX')) !== 'OK') return 0;
    const before = new Date(now - days * 24 * 3600_000);
    let erased = 0;
    for (const sessionId of await this.deps.sessions.inactiveSince(before, RETENTION_BATCH)) {
      const { turns, sessions, audio, queues, unfinished, live, ender } = this.deps;
      const erasure = { stores: { turns, sessions, audio }, queues, redis, prefix: this.options.prefix, unfinished, live, ender };
      if (await eraseSession(erasure, sessionId)) erased += 1;
    }
    if (erased > 0) this.deps.log.info({ erased, days }, 'retention: sessions past VOXQ_RETENTION_DAYS erased');
    return erased;
  }

  private async lead(): Promise<boolean> {
    const redis = this.deps.queues.connection;
    const ttl = this.options.intervalMs * 3;
    if ((await redis.set(this.leaseKey, this.id, 'PX', ttl, 'NX')) === 'OK') return true;
    if ((await redis.get(this.leaseKey)) !== this.id) return false;
    await redis.pexpire(this.leaseKey, ttl);
    return true;
  }

  private async reconcile(ref: TurnRef): Promise<'requeued' | 'failed' | 'resumed' | undefined> {
    const { live, ender, turns, unfinished, log } = this.deps;
    let loaded = await live.load(ref);
    if (loaded.ended) {
      if (loaded.endWritten) {
        await unfinished.remove(ref);
        return undefined;
      }
      return (await ender.resume(ref)) ? 'resumed' : undefined;
    }
    if (!loaded.turn) {
      // The live state is gone (Redis lost it): rebuild it from the record, or drop a turn that was never accepted.
      const record = await turns.get(ref.turnId);
      if (!record || record.status === 'completed' || record.status === 'failed' || record.status === 'interrupted') {
        await unfinished.remove(ref);
        return undefined;
      }
      await live.open(record);
      loaded = await live.load(ref);
      if (!loaded.turn) return undefined;
    }
    const turn = loaded.turn;
    if (loaded.pending) {
      // Its producer never confirmed it (it died while enqueueing): the caller was never told it was accepted.
      if (Date.now() - turn.createdAt.getTime() < UNCONFIRMED_AFTER_MS) return undefined;
      log.warn({ turnId: ref.turnId }, 'reconciler: a turn its producer never confirmed is withdrawn');
      return (await ender.withdraw(ref, notAccepted('the turn was never confirmed by the process that enqueued it'))) ? 'failed' : undefined;
    }
    const jobs = await this.jobStates(turn);
    if (jobs.some((j) => ALIVE.has(j.state))) return undefined;
    const failed = jobs.find((j) => j.state === 'failed');
    if (failed) {
      log.warn({ turnId: ref.turnId, jobId: failed.id }, 'reconciler: a job failed for good without ending its turn');
      await ender.fail(ref, describeFailure(failed.stage, new Error(failed.reason ?? 'the job failed')));
      return 'failed';
    }
    const due = await this.dueJobs(turn);
    if (due.length === 0) return (await ender.complete(ref)) ? 'resumed' : undefined;
    log.warn({ turnId: ref.turnId, jobs: due.map((d) => stageJobId(ref.turnId, d.stage, d.sentence)) }, 'reconciler: a turn had no live job; its due stage is enqueued again');
    for (const { stage, sentence } of due) {
      const id = stageJobId(ref.turnId, stage, sentence);
      await this.deps.queues.get(stage, ref.sessionId).remove(id); // a completed job of that id would make the add a no-op
      await this.deps.queues.add(stage, { turnId: ref.turnId, sessionId: ref.sessionId, ...(sentence !== undefined ? { sentence } : {}) });
    }
    return 'requeued';
  }

  /** The states of every job the turn has or had. */
  private async jobStates(turn: Turn): Promise<{ stage: StageName; id: string; state: string; reason?: string | undefined }[]> {
    const handed = await this.deps.live.sentencesHanded(turn);
    const ids: { stage: StageName; id: string }[] = [
      { stage: 'stt', id: stageJobId(turn.turnId, 'stt') },
      { stage: 'llm', id: stageJobId(turn.turnId, 'llm') },
      ...Array.from({ length: handed }, (_, i) => ({ stage: 'tts' as const, id: stageJobId(turn.turnId, 'tts', i) })),
    ];
    return Promise.all(
      ids.map(async ({ stage, id }) => {
        const job = await this.deps.queues.get(stage, turn.sessionId).getJob(id);
        if (!job) return { stage, id, state: 'unknown' };
        return { stage, id, state: await job.getState(), reason: job.failedReason };
      }),
    );
  }

  /** The jobs that would move the turn on from where its live state is. */
  private async dueJobs(turn: Turn): Promise<{ stage: StageName; sentence?: number }[]> {
    const route = routeOf(turn);
    const needsTranscript = route !== 'text-llm-tts' && !turn.stages.stt;
    if (!turn.stages.llm) {
      if (route === 'stt-llm-tts' && needsTranscript) return [{ stage: 'stt' }];
      return needsTranscript ? [{ stage: 'llm' }, { stage: 'stt' }] : [{ stage: 'llm' }];
    }
    const total = turn.stages.llm.output.sentences ?? 1;
    const { complete } = await this.deps.live.setTotal(turn, total);
    const { sentences } = await this.deps.live.heardSoFar(turn);
    const delivered = new Set(sentences.map((s) => s.index));
    const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !delivered.has(i));
    const due: { stage: StageName; sentence?: number }[] = complete ? [] : missing.map((sentence) => ({ stage: 'tts' as const, sentence }));
    if (needsTranscript) due.push({ stage: 'stt' });
    return due;
  }
}
