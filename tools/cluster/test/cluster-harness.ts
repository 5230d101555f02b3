import { afterEach } from 'vitest';
import { ProtocolClient, RedisServer } from '@rooms-kit/testing';
import { GatewayProcess } from '../src/index.js';

/**
 * How long a cluster may take to converge (a discard after its grace, the view rebuilt after a Redis restart, readiness
 * turning): generous, for a loaded machine. Where a property states a bound (node-down within 6 s), the test asserts
 * that bound itself instead.
 */
export const CONVERGE_MS = 30_000;

/** A running cluster for one test: one Redis, N gateway processes, and the clients the test opened. */
export interface Cluster {
  redis: RedisServer;
  nodes: GatewayProcess[];
  /** Connects a raw protocol client to node `i` (closed by the cleanup). */
  connect(i: number, query?: string): Promise<ProtocolClient>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/**
 * Starts Redis and `count` nodes with `env` (plus ROOMS_REDIS_URL), each start bounded by PROCESS_READY_TIMEOUT_MS;
 * everything is stopped after the test.
 */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = new RedisServer();
  const clients: ProtocolClient[] = [];
  // Every node that started, for the cleanup, also when another one failed to.
  const running: GatewayProcess[] = [];
  cleanups.push(async () => {
    await Promise.all(clients.map((c) => c.terminate()));
    await Promise.all(running.map((n) => n.kill()));
    await redis.stop();
  });
  await redis.start();
  const starts = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const node = await GatewayProcess.start({ env: { ROOMS_REDIS_URL: redis.url, ROOMS_LOG_LEVEL: 'silent', ...env } });
      running.push(node);
      return node;
    }),
  );
  const nodes: GatewayProcess[] = [];
  for (const start of starts) {
    if (start.status === 'rejected') throw start.reason;
    nodes.push(start.value);
  }
  return {
    redis,
    nodes,
    async connect(i, query = '') {
      const node = nodes[i];
      if (!node) throw new Error(`no node ${i}`);
      const client = await ProtocolClient.connect(node.wsUrl + query);
      clients.push(client);
      return client;
    },
  };
}
