// Parses nvidia-smi's CSV (--format=csv,noheader,nounits) into cards and compute processes, and
// names every failure shape: no driver, no devices, a GPU fallen off the bus, [N/A] fields,
// garbled output. Pure functions over text, so recorded output tests them.
import type { GpuCard, GpuProcess } from '../ports/gpu-manager.js';

/** The columns voxq asks for, in this order. */
export const GPU_QUERY_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'memory.used', 'utilization.gpu', 'mig.mode.current'] as const;
export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'used_memory'] as const;

export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
export const COMPUTE_APPS_ARGS = [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

export type NvidiaSmiFailure = 'not_installed' | 'no_driver' | 'no_devices' | 'gpu_lost' | 'garbled';

export class NvidiaSmiError extends Error {
  override readonly name = 'NvidiaSmiError';
  constructor(
    readonly failure: NvidiaSmiFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedGpuQuery {
  cards: Omit<GpuCard, 'host' | 'simulated'>[];
  /** Lines for cards nvidia-smi lists but cannot read, in words. */
  problems: string[];
}

const NOT_AVAILABLE = /^\[(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]$|^N\/A$/i;
const LOST = /GPU is lost|fallen off the bus|Unable to determine the device handle|\[GPU requires reset\]|\[Unknown Error\]/i;

/** Recognises nvidia-smi's own failure messages (whatever the exit code). */
export function classifyNvidiaSmiMessage(text: string): NvidiaSmiError | undefined {
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded|Driver\/library version mismatch/i.test(text)) {
    return new NvidiaSmiError('no_driver', `nvidia-smi cannot reach the NVIDIA driver: ${firstLine(text)}`);
  }
  if (/No devices were found/i.test(text)) return new NvidiaSmiError('no_devices', 'nvidia-smi found no NVIDIA GPU on this host');
  return undefined;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

function splitCsv(line: string): string[] {
  return line.split(',').map((f) => f.trim());
}

function optionalNumber(field: string): number | null | 'bad' {
  if (NOT_AVAILABLE.test(field) || field === '') return null;
  const n = Number(field);
  return Number.isFinite(n) && n >= 0 ? n : 'bad';
}

/** Parses `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits`. */
export function parseGpuQuery(stdout: string): ParsedGpuQuery {
  const known = classifyNvidiaSmiMessage(stdout);
  if (known) throw known;
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) throw new NvidiaSmiError('no_devices', 'nvidia-smi listed no GPU');
  const cards: ParsedGpuQuery['cards'] = [];
  const problems: string[] = [];
  for (const line of lines) {
    if (LOST.test(line) && !/^\d+\s*,\s*GPU-/.test(line)) {
      problems.push(`a GPU is unusable (fallen off the bus or lost): ${line}`);
      continue;
    }
    const fields = splitCsv(line);
    const [index, uuid, name, total, used, util, mig] = fields;
    if (fields.length !== GPU_QUERY_FIELDS.length || index === undefined || uuid === undefined || name === undefined || total === undefined) {
      throw new NvidiaSmiError('garbled', `unexpected nvidia-smi output (expected ${GPU_QUERY_FIELDS.length} CSV fields): ${line.slice(0, 200)}`);
    }
    if (LOST.test(line)) {
      problems.push(`GPU ${index} (${uuid}) is unusable: ${fields.filter((f) => LOST.test(f))[0] ?? 'lost'}`);
      continue;
    }
    const indexNumber = Number(index);
    const totalMb = optionalNumber(total);
    const usedMb = optionalNumber(used ?? '');
    const utilizationPct = optionalNumber(util ?? '');
    if (!Number.isInteger(indexNumber) || !/^(GPU|MIG)-[0-9A-Za-z-]+$/.test(uuid) || totalMb === 'bad' || usedMb === 'bad' || utilizationPct === 'bad') {
      throw new NvidiaSmiError('garbled', `unexpected nvidia-smi output: ${line.slice(0, 200)}`);
    }
    if (totalMb === null) {
      problems.push(`GPU ${index} (${uuid}) reports no total memory ([N/A]); voxq cannot reserve on it`);
      continue;
    }
    const migText = (mig ?? '').toLowerCase();
    cards.push({
      index: indexNumber,
      uuid,
      name,
      totalMb,
      usedMb,
      utilizationPct,
      migMode: migText === 'enabled' ? 'enabled' : migText === 'disabled' ? 'disabled' : null,
    });
  }
  if (cards.length === 0) {
    throw new NvidiaSmiError('gpu_lost', `no usable GPU: ${problems.join('; ')}`);
  }
  return { cards, problems };
}

/** Parses `nvidia-smi --query-compute-apps=<COMPUTE_APPS_FIELDS> --format=csv,noheader,nounits`. */
export function parseComputeApps(stdout: string): GpuProcess[] {
  const known = classifyNvidiaSmiMessage(stdout);
  if (known) throw known;
  const processes: GpuProcess[] = [];
  for (const line of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (/^No running (compute )?processes found/i.test(line)) continue;
    const fields = splitCsv(line);
    const [gpuUuid, pid, used] = fields;
    const pidNumber = Number(pid);
    const usedMb = optionalNumber(used ?? '');
    if (fields.length !== COMPUTE_APPS_FIELDS.length || !gpuUuid?.match(/^(GPU|MIG)-/) || !Number.isInteger(pidNumber) || usedMb === 'bad') {
      throw new NvidiaSmiError('garbled', `unexpected nvidia-smi compute-apps output: ${line.slice(0, 200)}`);
    }
    processes.push({ gpuUuid, pid: pidNumber, usedMb });
  }
  return processes;
}
