// A local Redis Cluster for tests and benchmarks: three masters with one replica each on loopback
// ports (each node's cluster bus on port + 10000), no persistence, a short node timeout so that a
// killed master's replica takes over within about a second. `stop()` kills every node and
// removes their folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

export interface LocalRedisCluster {
  /** Every node, masters first as created (VOXQ_REDIS_CLUSTER_NODES): host:port, or redis://:password@host:port. */
  nodesEnv: string;
  /** The nodes' requirepass/masterauth, when started with one. */
  password?: string | undefined;
  nodes: ClusterNode[];
  /** The ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** SIGKILLs the master on `port`; resolves once a replica has taken over its slots and the cluster is ok. */
  killMaster(port: number): Promise<{ promotedPort: number; failoverMs: number }>;
  stop(): Promise<void>;
}

export interface ClusterStartOptions {
  /** cluster-node-timeout: a master silent this long is failed over (default 1000 ms). */
  nodeTimeoutMs?: number;
  /** Every node requires this password (requirepass, masterauth between them). */
  password?: string;
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports in 7100–8999 free now, each with its bus port (+10000) free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 2000; tries += 1) {
    const port = 7100 + Math.floor(Math.random() * 1900);
    if (ports.includes(port) || !(await canListen(port)) || !(await canListen(port + 10_000))) continue;
    ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for a Redis Cluster');
  return ports;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${output}`))));
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function nodeSays<T>(port: number, ask: (redis: Redis) => Promise<T>, password?: string): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, ...(password ? { password } : {}) });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await ask(redis);
  } finally {
    redis.disconnect();
  }
}

/** `CLUSTER NODES` of a live node: port → role and state. */
async function clusterView(port: number, password?: string): Promise<{ port: number; master: boolean; failed: boolean }[]> {
  const text = String(await nodeSays(port, (redis) => redis.cluster('NODES'), password));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [, address = '', flags = ''] = line.split(' ');
      return { port: Number(address.split('@')[0]?.split(':')[1]), master: flags.split(',').includes('master'), failed: /fail/.test(flags) };
    });
}

export async function startRedisCluster(options: ClusterStartOptions = {}): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'voxq-cluster-'));
  const ports = await clusterPorts(6);
  const nodes: ClusterNode[] = [];
  const { password } = options;
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const stop = async () => {
    await Promise.all(
      nodes.map(async (node) => {
        if (node.process.exitCode !== null || node.process.signalCode !== null) return;
        node.process.kill('SIGKILL');
        await once(node.process, 'exit');
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
          '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, `redis-${port}.log`),
          // A replica may take over at once, however long it was cut off (tests kill masters on purpose).
          '--cluster-replica-validity-factor', '0',
          ...auth,
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, process: child });
    }
    await Promise.all(ports.map((port) => waitFor(async () => (await nodeSays(port, (r) => r.ping(), password)) === 'PONG', 10_000, `redis-server on ${port}`)));
    await run('redis-cli', [...(password ? ['-a', password, '--no-auth-warning'] : []), '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    await Promise.all(
      ports.map((port) =>
        waitFor(async () => /cluster_state:ok/.test(String(await nodeSays(port, (r) => r.cluster('INFO'), password))) && (await clusterView(port, password)).length === 6, 20_000, `cluster state ok on ${port}`),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const alive = () => nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
  const masters = async () => {
    const [any] = alive();
    if (!any) return [];
    return (await clusterView(any.port, password)).filter((n) => n.master && !n.failed).map((n) => n.port);
  };
  return {
    nodesEnv: ports.map((p) => (password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${p}` : `127.0.0.1:${p}`)).join(','),
    password,
    nodes,
    masters,
    async killMaster(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no node on ${port}`);
      const before = new Set(await masters());
      const killedAt = Date.now();
      node.process.kill('SIGKILL');
      await once(node.process, 'exit');
      let promotedPort = 0;
      await waitFor(
        async () => {
          const others = alive();
          const now = await masters();
          const promoted = now.find((p) => !before.has(p));
          if (promoted === undefined) return false;
          promotedPort = promoted;
          const states = await Promise.all(others.map((n) => nodeSays(n.port, (r) => r.cluster('INFO'), password)));
          return states.every((info) => /cluster_state:ok/.test(String(info)));
        },
        30_000,
        'a replica to take over',
      );
      return { promotedPort, failoverMs: Date.now() - killedAt };
    },
    stop,
  };
}

/** How many keys each live master holds, by port (DBSIZE). */
export async function keysPerMaster(cluster: LocalRedisCluster, match?: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const port of await cluster.masters()) {
    counts.set(
      port,
      await nodeSays(port, async (redis) => {
        if (!match) return redis.dbsize();
        let cursor = '0';
        let total = 0;
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          total += keys.length;
        } while (cursor !== '0');
        return total;
      }, cluster.password),
    );
  }
  return counts;
}
