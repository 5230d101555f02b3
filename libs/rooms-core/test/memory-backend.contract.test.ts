import { afterEach, describe, it } from 'vitest';
import { backendContract, InMemoryBackend, InMemoryStore } from '../src/index.js';

let run = 0;

backendContract({ describe, it, afterEach }, 'InMemoryBackend', (count, options) => {
  const store = new InMemoryStore({
    ...(options.historySize !== undefined ? { historySize: options.historySize } : {}),
    ...(options.historyMaxBytes !== undefined ? { historyMaxBytes: options.historyMaxBytes } : {}),
  });
  run++;
  return Array.from({ length: count }, (_, i) => new InMemoryBackend(`mem-${run}-${i}`, store));
});
