import type { Backend } from '@rooms-kit/core';
import { InMemoryBackend } from '@rooms-kit/core';
import { RedisBackend } from '@rooms-kit/redis';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';

/**
 * The backend for `config`: an embedded `InMemoryBackend` (single node) when `ROOMS_REDIS_URL` is unset, else a
 * `RedisBackend` on that URL with this node's id and `ROOMS_NODE_TTL_MS`. Not started here: the `NodeManager`
 * starts it.
 */
export function createBackend(config: GatewayConfig, logger: Logger): Backend {
  if (config.redisUrl === null) return new InMemoryBackend(config.nodeId);
  return new RedisBackend({ url: config.redisUrl, nodeId: config.nodeId, nodeTtlMs: config.nodeTtlMs, logger });
}
