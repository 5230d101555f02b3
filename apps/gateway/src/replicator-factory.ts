import type { Replicator } from '@rooms-kit/core';
import { InMemoryReplicator } from '@rooms-kit/core';
import { RedisReplicator } from '@rooms-kit/redis';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';

/**
 * The replication port for `config`: an embedded `InMemoryReplicator` (single node) when `ROOMS_REDIS_URL` is
 * unset, else a `RedisReplicator` on that URL with this node's id and `ROOMS_NODE_TTL_MS`. Not started here:
 * the `NodeManager` starts it.
 */
export function createReplicator(config: GatewayConfig, logger: Logger): Replicator {
  if (config.redisUrl === null) return new InMemoryReplicator(config.nodeId);
  return new RedisReplicator({ url: config.redisUrl, nodeId: config.nodeId, nodeTtlMs: config.nodeTtlMs, logger });
}
