import { afterEach } from 'vitest';
import { RedisServer } from '@rooms-kit/testing';
import { GatewayProcess, ProtocolClient } from '../src/index.js';

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

/** Starts Redis and `count` nodes with `env` (plus ROOMS_REDIS_URL); everything is stopped after the test. */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = new RedisServer();
  await redis.start();
  const nodes: GatewayProcess[] = [];
  const clients: ProtocolClient[] = [];
  cleanups.push(async () => {
    await Promise.all(clients.map((c) => c.drop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.kill()));
    await redis.stop();
  });
  const started = await Promise.all(
    Array.from({ length: count }, () => GatewayProcess.start({ env: { ROOMS_REDIS_URL: redis.url, ROOMS_LOG_LEVEL: 'silent', ...env } })),
  );
  nodes.push(...started);
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
