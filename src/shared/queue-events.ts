// A QueueEvents that hears every event from the moment it is asked for. A new QueueEvents reads
// from `$` once its XREAD is issued, which is some time after it reports ready: an event in that
// gap would never be heard of. This one starts from the stream's end as read before it returns.
import { QueueEvents, type ConnectionOptions, type Queue } from 'bullmq';
import type { RedisClient } from './redis.js';

export async function openQueueEvents(queue: Queue, connection: RedisClient, prefix: string): Promise<QueueEvents> {
  const eventsKey = queue.keys.events ?? `${prefix}:${queue.name}:events`;
  const [last] = await connection.xrevrange(eventsKey, '+', '-', 'COUNT', 1);
  // QueueEvents blocks on its connection: BullMQ makes (and closes) one from these options.
  // Blocking connections need maxRetriesPerRequest null, which a producer connection lacks.
  const options = { ...connection.options, maxRetriesPerRequest: null } as ConnectionOptions;
  const events = new QueueEvents(queue.name, { connection: options, prefix, lastEventId: last?.[0] ?? '0-0' });
  events.on('error', () => undefined); // reconnects on its own
  return events;
}
