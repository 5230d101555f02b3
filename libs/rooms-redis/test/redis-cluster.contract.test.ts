import { afterAll, beforeAll } from 'vitest';
import { RedisReplicator } from '../src/index.js';
import { replicatorContract } from './replicator-contract.js';
import { RedisClusterServers } from './support/redis-cluster.js';

const cluster = new RedisClusterServers(3);
let run = 0;

beforeAll(() => cluster.start(), 30_000);
afterAll(() => cluster.stop());

replicatorContract('RedisReplicator (Redis Cluster, sharded pub/sub)', (count, options) => {
  run++;
  return Array.from(
    { length: count },
    (_, i) => new RedisReplicator({ url: cluster.url, nodeId: `cluster-${run}-${i}`, keyPrefix: `c${run}:`, historySize: options.historySize ?? 1000 }),
  );
});
