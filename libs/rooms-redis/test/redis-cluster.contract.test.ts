import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendContract, RecordingHandler, RoomsError } from '@rooms-kit/core';
import { RedisBackend, RedisKeys } from '../src/index.js';
import { keySlot } from '../src/key-slot.js';
import { RedisClusterServers } from './support/redis-cluster.js';

const cluster = new RedisClusterServers(3);
let run = 0;

beforeAll(() => cluster.start(), 150_000);
afterAll(() => cluster.stop());

backendContract({ describe, it, afterEach }, 'RedisBackend (Redis Cluster, sharded pub/sub)', (count, options) => {
  run++;
  return Array.from(
    { length: count },
    (_, i) =>
      new RedisBackend({
        url: cluster.url,
        nodeId: `cluster-${run}-${i}`,
        keyPrefix: `c${run}:`,
        historySize: options.historySize ?? 1000,
        ...(options.historyMaxBytes !== undefined ? { historyMaxBytes: options.historyMaxBytes } : {}),
      }),
  );
});

describe('RedisBackend on Redis Cluster, when a sharded subscriber connection is lost', () => {
  it('reports unavailability, and comes back only once the channels are subscribed again', async () => {
    const keys = new RedisKeys('lost-sub:');
    const channel = keys.group('g').channel;
    const clients = cluster.servers.map((s) => new Redis(s.url));
    const a = new RedisBackend({ url: cluster.url, nodeId: `lost-sub-a-${process.pid}`, keyPrefix: keys.prefix });
    const b = new RedisBackend({ url: cluster.url, nodeId: `lost-sub-b-${process.pid}`, keyPrefix: keys.prefix });
    const ha = new RecordingHandler('a');
    try {
      // The slot the backend computes for a group channel is the cluster's.
      expect(await (clients[0] as Redis).call('CLUSTER', 'KEYSLOT', channel)).toBe(keySlot(channel));
      await a.start(ha);
      await b.start(new RecordingHandler('b'));
      const snap = await a.groups.createGroup({ id: 'g', allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false }, { id: 's1', node: a.nodeId });
      const attempted = new Promise<unknown>((resolve) => {
        ha.onAvailabilityHook = (available) => {
          if (!available) resolve(a.groups.publish('g', 's1', 'while down', false).catch((e: unknown) => e));
        };
      });
      // The moment a reports it is back, b changes the group: a must already be subscribed to get the event.
      const publishedAtReconnect = new Promise<number>((resolve, reject) => {
        ha.onReconnectedHook = () => void b.groups.publish('g', null, 'at reconnect', false).then((r) => resolve(r.offset), reject);
      });
      // Only a's sharded subscriber is connected (b subscribed nothing; ioredis starts them lazily).
      let killed = 0;
      for (const client of clients) {
        const lines = String(await client.call('CLIENT', 'LIST')).split('\n');
        for (const line of lines.filter((l) => l.includes(' name=ioredis-cluster(ssubscriber)'))) {
          await client.call('CLIENT', 'KILL', 'ID', /^id=(\d+) /.exec(line)?.[1] as string);
          killed++;
        }
      }
      expect(killed).toBe(1);
      const error = await attempted;
      expect(error).toBeInstanceOf(RoomsError);
      expect((error as RoomsError).code).toBe('UNAVAILABLE');
      await ha.until((h) => h.records.some((r) => r.kind === 'reconnected'), 'onReconnected', 10_000);
      const kinds = ha.records.filter((r) => r.kind !== 'event').map((r) => (r.kind === 'availability' ? `available:${r.available}` : r.kind));
      expect(kinds).toEqual(['available:false', 'available:true', 'reconnected']);
      const offset = await publishedAtReconnect;
      expect(offset).toBe(snap.offset + 1);
      expect((await ha.untilMessage('g', offset)).data).toBe('at reconnect');
    } finally {
      await Promise.all([a.close(), b.close()]);
      for (const client of clients) client.disconnect();
    }
  });
});
