// Which machine a GPU belongs to, for the reservation ledger's keys (`<prefix>:gpu:<hostId>:<uuid>`):
// VOXQ_HOST_ID, else the machine id (/etc/machine-id, stable across reboots), else the hostname.
// Containers on one GPU box share its cards, so they must share its ledger: each sets
// VOXQ_HOST_ID to the box's id (or mounts the box's /etc/machine-id read-only). A container's
// own hostname (its container id) would give each container a ledger of its own for the same
// cards, and none would see the others' reservations.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const MACHINE_ID_PATH = '/etc/machine-id';

/** What VOXQ_HOST_ID may hold: it becomes part of Redis key names. */
export const HOST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export interface HostIdSources {
  /** VOXQ_HOST_ID (already validated by the config). */
  configured?: string | undefined;
  machineIdPath?: string;
  hostname?: () => string;
}

export function resolveHostId(sources: HostIdSources = {}): string {
  if (sources.configured !== undefined) return sources.configured;
  const machineId = readMachineId(sources.machineIdPath ?? MACHINE_ID_PATH);
  if (machineId !== undefined) return machineId;
  return (sources.hostname ?? hostname)();
}

/** The machine id when the file holds one (32 hex digits, systemd's format); an empty or missing file says nothing. */
function readMachineId(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[0-9a-f]{32}$/i.test(text) ? text.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
