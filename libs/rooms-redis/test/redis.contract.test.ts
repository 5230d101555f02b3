import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { backendContract } from '@rooms-kit/core';
import { RedisServer } from '@rooms-kit/testing';
import { RedisBackend } from '../src/index.js';

const server = new RedisServer();
let run = 0;

beforeAll(() => server.start(), 90_000);
afterAll(() => server.stop());

backendContract({ describe, it, afterEach }, 'RedisBackend (single Redis)', (count, options) => {
  run++;
  // A key prefix per test: every test starts from an empty store.
  return Array.from(
    { length: count },
    (_, i) =>
      new RedisBackend({
        url: server.url,
        nodeId: `redis-${run}-${i}`,
        keyPrefix: `t${run}:`,
        historySize: options.historySize ?? 1000,
        ...(options.historyMaxBytes !== undefined ? { historyMaxBytes: options.historyMaxBytes } : {}),
      }),
  );
});
