// The pieces of the cluster layout that need no cluster: VOXQ_REDIS_CLUSTER_NODES and
// VOXQ_QUEUE_SHARDS as config.ts reads them, the unsharded layout unchanged, tags chosen from a
// slot map, and --concurrency spread over shards. (The slots themselves are checked against a
// real cluster's CLUSTER KEYSLOT in redis-cluster.test.ts.)
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/shared/config.js';
import { turnKeys } from '../../src/shared/live/live-keys.js';
import { hashedPart, keySlot } from '../../src/shared/shards/key-slot.js';
import { chooseShardTags, QueueShards } from '../../src/shared/shards/queue-shards.js';
import { concurrencyPerShard } from '../../src/workers/worker-process.js';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('VOXQ_REDIS_CLUSTER_NODES', () => {
  it('takes host:port entries and redis[s]:// URLs with one set of credentials', () => {
    expect(loadConfig({ VOXQ_REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' }).VOXQ_REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: false,
    });
    expect(loadConfig({ VOXQ_REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@a.example:6380,rediss://b.example:6380,[::1]:7002' }).VOXQ_REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: 'a.example', port: 6380 },
        { host: 'b.example', port: 6380 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    });
    expect(loadConfig({}).VOXQ_REDIS_CLUSTER_NODES).toBeUndefined();
  });

  it('names the variable for a bad entry, mixed schemes or credentials, and no node', () => {
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'localhost' })).toMatch(/VOXQ_REDIS_CLUSTER_NODES: entry "localhost" is not host:port/);
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'a:7000,b:99999' })).toMatch(/VOXQ_REDIS_CLUSTER_NODES: entry "b:99999"/);
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'redis://a:7000,rediss://b:7000' })).toMatch(/VOXQ_REDIS_CLUSTER_NODES: mixes redis:\/\/ and rediss:\/\//);
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'redis://:one@a:7000,redis://:two@b:7000' })).toMatch(/VOXQ_REDIS_CLUSTER_NODES: entries carry different passwords/);
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: ' , ' })).toMatch(/VOXQ_REDIS_CLUSTER_NODES: names no node/);
    // A password never shows in the message.
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'redis://:hunter2@a' })).not.toContain('hunter2');
  });

  it('refuses a hash tag in VOXQ_PREFIX once sharded, and a shard count out of range', () => {
    expect(configError({ VOXQ_REDIS_CLUSTER_NODES: 'a:7000', VOXQ_PREFIX: '{voxq}' })).toMatch(/VOXQ_PREFIX: must hold no hash tag/);
    expect(configError({ VOXQ_QUEUE_SHARDS: '4', VOXQ_PREFIX: '{voxq}' })).toMatch(/VOXQ_PREFIX: must hold no hash tag/);
    expect(loadConfig({ VOXQ_PREFIX: '{voxq}' }).VOXQ_PREFIX).toBe('{voxq}');
    expect(configError({ VOXQ_QUEUE_SHARDS: '0' })).toMatch(/VOXQ_QUEUE_SHARDS/);
    expect(loadConfig({}).VOXQ_QUEUE_SHARDS).toBe(1);
  });
});

describe('the queue shards layout', () => {
  it('unsharded: the queues and session keys voxq always had', () => {
    const shards = QueueShards.unsharded('voxq');
    expect([shards.queueName('stt', 0), shards.queuePrefix(0), shards.count]).toEqual(['stt', 'voxq', 1]);
    expect(turnKeys(shards, 'sess_1', 'turn_1')).toEqual(turnKeys('voxq', 'sess_1', 'turn_1'));
    expect(turnKeys(shards, 'sess_1', 'turn_1').log).toBe('voxq:{sess_1}:turn:turn_1:log');
  });

  it('sharded: a session on one shard, its keys under the shard tag its stage queues share', () => {
    const shards = new QueueShards('voxq', ['s0', 's1-4', 's2']);
    const sessions = Array.from({ length: 300 }, (_, i) => `sess_${i}`);
    const perShard = [0, 1, 2].map((shard) => sessions.filter((s) => shards.shardOf(s) === shard).length);
    expect(Math.min(...perShard)).toBeGreaterThan(70);
    const session = sessions.find((s) => shards.shardOf(s) === 1) ?? '';
    const keys = turnKeys(shards, session, 'turn_1');
    expect(keys.log).toBe(`voxq:{s1-4}:${session}:turn:turn_1:log`);
    for (const key of Object.values(keys) as string[]) expect(hashedPart(key)).toBe('s1-4');
    expect([shards.queueName('llm', 1), shards.queuePrefix(1)]).toEqual(['llm.1', 'voxq:{s1-4}']);
    expect(keySlot(`${shards.queuePrefix(1)}:llm.1:wait`)).toBe(keySlot(keys.state));
  });

  it('chooses tags whose slots the wanted masters serve, the same for every process', () => {
    const ranges = [
      { start: 0, end: 5460, masterId: 'c' },
      { start: 5461, end: 10922, masterId: 'a' },
      { start: 10923, end: 16383, masterId: 'b' },
    ];
    const tags = chooseShardTags(6, ranges);
    const owner = (tag: string) => ranges.find((r) => keySlot(tag) >= r.start && keySlot(tag) <= r.end)?.masterId;
    // Masters in node-id order: shard i on master i mod 3.
    expect(tags.map(owner)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(chooseShardTags(6, [...ranges].reverse())).toEqual(tags);
  });

  it('keySlot follows Redis hash-tag rules (known slots from the Redis Cluster specification)', () => {
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(hashedPart('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashedPart('foo{{bar}}zap')).toBe('{bar');
    expect(hashedPart('foo{bar}{zap}')).toBe('bar');
  });
});

describe('--concurrency over shards', () => {
  it('spreads a stage concurrency evenly, each shard at least one, the remainder by process', () => {
    expect(concurrencyPerShard(4, 1)).toEqual([4]);
    expect(concurrencyPerShard(6, 3)).toEqual([2, 2, 2]);
    expect(concurrencyPerShard(7, 3, 0)).toEqual([3, 2, 2]);
    expect(concurrencyPerShard(7, 3, 1)).toEqual([2, 3, 2]);
    expect(concurrencyPerShard(1, 3, 0)).toEqual([1, 1, 1]);
    // Three processes with 4 each over 3 shards: 4 per shard in all.
    const total = [0, 1, 2].map((pid) => concurrencyPerShard(4, 3, pid)).reduce((sum, each) => sum.map((n, i) => n + (each[i] ?? 0)));
    expect(total).toEqual([4, 4, 4]);
  });
});
