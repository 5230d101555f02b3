import { afterAll, beforeAll } from 'vitest';
import { RedisReplicator } from '../src/index.js';
import { replicatorContract } from './replicator-contract.js';
import { RedisServer } from '@rooms-kit/testing';

const server = new RedisServer();
let run = 0;

beforeAll(() => server.start(), 15_000);
afterAll(() => server.stop());

replicatorContract('RedisReplicator (single Redis)', (count, options) => {
  run++;
  // A key prefix per test: every test starts from an empty store.
  return Array.from(
    { length: count },
    (_, i) => new RedisReplicator({ url: server.url, nodeId: `redis-${run}-${i}`, keyPrefix: `t${run}:`, historySize: options.historySize ?? 1000 }),
  );
});
