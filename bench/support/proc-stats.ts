// Another process's memory and CPU, read from outside it (Linux /proc), so that a process under
// load is measured without asking its busy event loop: resident memory (VmRSS, and its peak
// VmHWM) and CPU time (utime + stime). Elsewhere every reader answers undefined.
import { readdir, readFile } from 'node:fs/promises';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on every Linux port in use). */
const TICKS_PER_S = 100;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), as bytes. */
async function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  const status = await readText(`/proc/${pid}/status`);
  const match = status === undefined ? null : new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

export function rssBytes(pid: number): Promise<number | undefined> {
  return statusBytes(pid, 'VmRSS');
}

/** The most the process has held resident since it started. */
export function peakRssBytes(pid: number): Promise<number | undefined> {
  return statusBytes(pid, 'VmHWM');
}

/** Fields after the command name of /proc/<pid>/stat (the name may hold spaces and parentheses). */
async function statFields(pid: number): Promise<{ comm: string; rest: string[] } | undefined> {
  const stat = await readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  return { comm: stat.slice(open + 1, close), rest: stat.slice(close + 2).trim().split(/\s+/) };
}

/** User + system CPU time the process has used, in ms. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  const fields = await statFields(pid);
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  const utime = Number(fields?.rest[11]);
  const stime = Number(fields?.rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / TICKS_PER_S;
}

/** The first child of `parentPid` running `name` (the kernel keeps a command's first 15 characters). */
export async function childPid(parentPid: number, name: string): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await statFields(Number(entry));
    if (fields && Number(fields.rest[1]) === parentPid && fields.comm === name.slice(0, 15)) return Number(entry);
  }
  return undefined;
}
