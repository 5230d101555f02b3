import type { WireProtocol } from './ipc.js';
import { gatewayEntry, loadFile } from './paths.js';
import { processCpuMicros } from './process/proc-stats.js';
import { startRedis } from './process/redis.js';
import type { RedisProcess } from './process/redis.js';
import { startServerNode } from './process/server-node.js';
import type { ServerLaunch, ServerNode } from './process/server-node.js';
import type { StatsReply } from './servers/stats-agent.js';

/** The systems under test. */
export const TARGET_NAMES = ['rooms', 'rooms-redis', 'socketio', 'socketio-redis', 'ws-baseline'] as const;

/** One of `TARGET_NAMES`. */
export type TargetName = (typeof TARGET_NAMES)[number];

/** What a target is: how many server processes, whether they share a Redis, and the protocol the driver speaks. */
export interface TargetSpec {
  name: TargetName;
  protocol: WireProtocol;
  nodes: number;
  redis: boolean;
}

/** Every target by name. */
export const TARGETS: Record<TargetName, TargetSpec> = {
  rooms: { name: 'rooms', protocol: 'rooms', nodes: 1, redis: false },
  'rooms-redis': { name: 'rooms-redis', protocol: 'rooms', nodes: 2, redis: true },
  socketio: { name: 'socketio', protocol: 'socketio', nodes: 1, redis: false },
  'socketio-redis': { name: 'socketio-redis', protocol: 'socketio', nodes: 2, redis: true },
  'ws-baseline': { name: 'ws-baseline', protocol: 'ws', nodes: 1, redis: false },
};

/** A started target: its server processes (and Redis), measured together. */
export interface RunningTarget {
  spec: TargetSpec;
  nodes: ServerNode[];
  /** One URL per node; the driver spreads members over them. */
  urls: string[];
  /** Server CPU so far, µs, summed over the nodes (Redis excluded: see `redisCpuMicros`). */
  cpuMicros(): number;
  /** Redis CPU so far, µs (0 without Redis). */
  redisCpuMicros(): number;
  /** RSS now, bytes, summed over the nodes. */
  rssBytes(): number;
  /** Heap figures summed over the nodes, or undefined when a node's agent did not answer. */
  memory(gc: boolean): Promise<StatsReply | undefined>;
  /** Kills the nodes and Redis and waits for them to exit; idempotent. */
  stop(): Promise<void>;
}

/** Raised when a target cannot be started; the table shows "unavailable: <message>". */
export class TargetUnavailableError extends Error {}

/** Where and under which name prefix a profiled run writes CPU profiles. */
export interface ProfileRequest {
  dir: string;
  prefix: string;
}

function launchFor(
  spec: TargetSpec,
  index: number,
  redisUrl: string | undefined,
  profile: ProfileRequest | undefined,
): ServerLaunch {
  const label = `${spec.name}#${index + 1}`;
  const withProfile = profile ? { profile: { dir: profile.dir, name: `${profile.prefix}-${spec.name}-${index + 1}` } } : {};
  switch (spec.protocol) {
    case 'rooms':
      return {
        label,
        ...withProfile,
        script: gatewayEntry,
        readiness: 'http',
        env: {
          ROOMS_RATE_LIMIT: '0',
          // Only a fatal start failure is logged (it becomes the "unavailable" reason); nothing under load.
          ROOMS_LOG_LEVEL: 'fatal',
          ROOMS_MAX_PAYLOAD: '65536',
          // Every driver connects from 127.0.0.1: idle10k alone opens 10,000 sockets, over both connection caps.
          ROOMS_MAX_CONNECTIONS: '100000',
          ROOMS_MAX_CONNECTIONS_PER_IP: '100000',
          ...(redisUrl ? { ROOMS_REDIS_URL: redisUrl } : {}),
        },
      };
    case 'socketio':
      return {
        label,
        ...withProfile,
        script: loadFile('servers/socketio.ts'),
        readiness: 'ipc',
        env: redisUrl ? { REDIS_URL: redisUrl } : {},
      };
    case 'ws':
      return { label, ...withProfile, script: loadFile('servers/ws-baseline.ts'), readiness: 'ipc', env: {} };
  }
}

/**
 * Starts a target's Redis (when it needs one: a fresh redis-server per target, so no state carries over) and its
 * nodes. Any failure stops whatever did start and becomes a `TargetUnavailableError`.
 */
export async function startTarget(spec: TargetSpec, profile?: ProfileRequest): Promise<RunningTarget> {
  let redis: RedisProcess | undefined;
  const nodes: ServerNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  };
  try {
    if (spec.redis) redis = await startRedis();
    const started = await Promise.allSettled(
      Array.from({ length: spec.nodes }, (_, i) => startServerNode(launchFor(spec, i, redis?.url, profile))),
    );
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    await stop();
    throw new TargetUnavailableError(e instanceof Error ? e.message : String(e));
  }
  const redisPid = redis?.pid;
  return {
    spec,
    nodes,
    urls: nodes.map((n) => n.url),
    cpuMicros: () => nodes.reduce((sum, n) => sum + n.cpuMicros(), 0),
    redisCpuMicros: () => (redisPid === undefined ? 0 : processCpuOrZero(redisPid)),
    rssBytes: () => nodes.reduce((sum, n) => sum + n.rssBytes(), 0),
    memory: async (gc) => {
      const replies = await Promise.all(nodes.map((n) => n.memory(gc)));
      if (replies.some((r) => r === undefined)) return undefined;
      return replies.reduce((sum, r) => ({
        type: 'bench:stats' as const,
        id: 0,
        rss: sum!.rss + r!.rss,
        heapUsed: sum!.heapUsed + r!.heapUsed,
        heapTotal: sum!.heapTotal + r!.heapTotal,
        external: sum!.external + r!.external,
      }));
    },
    stop,
  };
}

function processCpuOrZero(pid: number): number {
  try {
    return processCpuMicros(pid);
  } catch {
    return 0;
  }
}
