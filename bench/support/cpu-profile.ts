// A CPU profile of this process around one piece of work (the inspector's sampling profiler),
// summarised as self time per package: where the main thread's time goes.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

export interface ProfileSummary {
  /** Sampled wall time of the window. */
  totalMs: number;
  /** Self time by bucket (package name, `voxq`, `fake_providers`, `node`, `gc`, `v8`, `idle` …), ms. */
  bucketsMs: Record<string, number>;
  /** The heaviest functions by self time. */
  top: { name: string; where: string; selfMs: number }[];
}

export async function profiled<T>(work: () => Promise<T>, samplingIntervalUs = 500): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    // For a closer look (chrome://inspect, speedscope): the whole profile, not only its summary.
    const file = process.env.VOXQ_BENCH_CPU_PROFILE_FILE;
    if (file) writeFileSync(file, JSON.stringify(profile));
    return { result, summary: summarise(profile) };
  } finally {
    session.disconnect();
  }
}

function bucketOf(frame: Profiler.ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program';
    return 'v8';
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1].startsWith('@opentelemetry/') ? 'opentelemetry' : pkg[1];
  if (url.startsWith('node:')) return 'node';
  // The fakes stand in for real providers (a network call, a model): their CPU is not voxq's.
  if (/\/src\/shared\/providers\/fake-|\/src\/shared\/audio\/wav\./.test(url)) return 'fake_providers';
  if (url.includes('/src/')) return 'voxq';
  if (url.includes('/bench/') || url.includes('/tests/')) return 'bench';
  return 'other';
}

export function summarise(profile: Profiler.Profile): ProfileSummary {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; charge it to the sample that follows it.
  for (let i = 0; i < samples.length; i += 1) {
    const id = samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0));
  }
  // Profiler.stop's own work (node:inspector's post and what runs under it) is sampled too: not the work's.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const underInspector = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)?.callFrame.url === 'node:inspector') return true;
    return false;
  };
  for (const id of [...selfUs.keys()]) if (underInspector(id)) selfUs.delete(id);
  const bucketsMs: Record<string, number> = {};
  const byFunction = new Map<string, { name: string; where: string; selfMs: number }>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const bucket = bucketOf(node.callFrame);
    bucketsMs[bucket] = (bucketsMs[bucket] ?? 0) + us / 1000;
    const where = `${node.callFrame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|tests)\//, '$1/')}:${node.callFrame.lineNumber + 1}`;
    const key = `${node.callFrame.functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: node.callFrame.functionName || '(anonymous)', where, selfMs: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  const top = [...byFunction.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, 15);
  return { totalMs: totalUs / 1000, bucketsMs, top };
}
