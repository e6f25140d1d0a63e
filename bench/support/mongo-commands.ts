// Counts the MongoDB commands one MongoClient sends, by command and collection (`find turns`;
// the driver's command monitoring): what a turn costs the database, seen from the process that
// sends them. The client must be made from a URL with monitoring on (withCommandMonitoring).
import type { CommandStartedEvent, MongoClient } from 'mongodb';

/** Sent by the driver for its own sake (handshakes, heartbeats, session clean-up), not for the work measured. */
const DRIVER_COMMANDS = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'endSessions', 'buildInfo', 'buildinfo']);

/** The URL with `monitorCommands=true`: a client made from it emits commandStarted for every command. */
export function withCommandMonitoring(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('monitorCommands', 'true');
  return parsed.toString();
}

/** `find turns`: the command's name and, when it names one, its collection. */
export function commandKey(event: Pick<CommandStartedEvent, 'commandName' | 'command'>): string {
  const target: unknown = event.command[event.commandName];
  return typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
}

/** Commands by name and collection since the counter was attached. */
export class MongoCommandCounter {
  private readonly counts = new Map<string, number>();

  constructor(client: MongoClient) {
    client.on('commandStarted', (event) => {
      const key = commandKey(event);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    });
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** What was sent between two snapshots, by command name. */
export function commandsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const delta = count - (before[name] ?? 0);
    if (delta > 0) out[name] = delta;
  }
  return out;
}

/** Adds command counts together. */
export function addCommands(...counts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const each of counts) for (const [name, count] of Object.entries(each)) out[name] = (out[name] ?? 0) + count;
  return out;
}

/** The commands sent for the work (the driver's own left out). */
export function workCommands(counts: Record<string, number>): number {
  return Object.entries(counts).reduce((sum, [key, count]) => (DRIVER_COMMANDS.has(key.split(' ')[0] ?? key) ? sum : sum + count), 0);
}
