// A TCP port on 127.0.0.1 that nothing listens on now (the OS picked it, then it was let go):
// for servers a test or benchmark starts of its own, or for a "down" service to point at.
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}
