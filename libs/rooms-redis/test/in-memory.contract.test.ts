import { InMemoryReplicator, InMemoryStore } from '@rooms-kit/core';
import { replicatorContract } from './replicator-contract.js';

let run = 0;

replicatorContract('InMemoryReplicator', (count, options) => {
  const store = new InMemoryStore(options.historySize !== undefined ? { historySize: options.historySize } : {});
  run++;
  return Array.from({ length: count }, (_, i) => new InMemoryReplicator(`mem-${run}-${i}`, store));
});
