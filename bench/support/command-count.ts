// Counts the Redis commands this process sends (every ioredis connection, BullMQ's included),
// by name: round trips per turn are what a Redis-bound pipeline pays for.
import { Redis } from 'ioredis';

const counts = new Map<string, number>();
let installed = false;

/** Wraps Redis.prototype.sendCommand once; call before any connection is made. */
export function countRedisCommands(): void {
  if (installed) return;
  installed = true;
  const proto = Redis.prototype as unknown as { sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown };
  const original = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command: { name: string }, ...rest: unknown[]) {
    counts.set(command.name, (counts.get(command.name) ?? 0) + 1);
    return original.call(this, command, ...rest);
  };
}

export function commandCounts(): Map<string, number> {
  return new Map(counts);
}

/** What was sent between two snapshots, by command name. */
export function commandsSince(before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, n] of counts) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) out.set(name, d);
  }
  return out;
}
