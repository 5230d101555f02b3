import { Redis } from 'ioredis';
import { PROCESS_READY_TIMEOUT_MS, RedisServer, waitUntil } from '@rooms-kit/testing';

const SLOTS = 16384;

/**
 * RedisClusterServers: a Redis Cluster of `size` masters (no replicas), each a `RedisServer` of the test's own:
 * started with cluster mode on, given an equal share of the slots (CLUSTER ADDSLOTSRANGE), introduced to each
 * other (CLUSTER MEET), and ready once every node reports `cluster_state:ok`.
 */
export class RedisClusterServers {
  readonly servers: RedisServer[];

  constructor(size = 3) {
    this.servers = Array.from({ length: size }, () => new RedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']));
  }

  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`. */
  get url(): string {
    return `redis+cluster://${this.servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`;
  }

  /**
   * Starts the servers (each bounded by PROCESS_READY_TIMEOUT_MS), shares the slots, introduces them, and waits, up
   * to PROCESS_READY_TIMEOUT_MS again, until every node reports `cluster_state:ok`.
   */
  async start(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.start()));
    const clients = this.servers.map((s) => new Redis(s.url));
    try {
      const share = Math.ceil(SLOTS / this.servers.length);
      await Promise.all(clients.map((c, i) => c.call('CLUSTER', 'ADDSLOTSRANGE', i * share, Math.min(SLOTS, (i + 1) * share) - 1)));
      const [first] = clients as [Redis];
      for (const server of this.servers.slice(1)) await first.call('CLUSTER', 'MEET', '127.0.0.1', server.port);
      // A node not there yet throws its state, so a timeout says which nodes never reached `ok`.
      await waitUntil(
        'the cluster to be ready (cluster_state:ok on every node)',
        async () => {
          const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO')));
          const states = infos.map((info, i) => `${this.servers[i]?.port}: ${/cluster_state:(\w+)/.exec(String(info))?.[1] ?? 'unknown'}`);
          if (states.every((state) => state.endsWith(': ok'))) return true;
          throw new Error(`cluster_state ${states.join(', ')}`);
        },
        PROCESS_READY_TIMEOUT_MS,
      );
    } finally {
      for (const c of clients) c.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
