import type { Backend } from '@rooms-kit/core';
import { InMemoryBackend, InMemoryStore } from '@rooms-kit/core';
import { RedisBackend } from '@rooms-kit/redis';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';

/**
 * The backend for `config`: an embedded `InMemoryBackend` (single node) when `ROOMS_REDIS_URL` is unset, else a
 * `RedisBackend` on that URL with this node's id and `ROOMS_NODE_TTL_MS`; both keep `ROOMS_HISTORY_MAX_BYTES` of each
 * group's history. Not started here: the `NodeManager` starts it. On Redis the start waits for a Redis it cannot
 * reach (`waitForStore`: the node listens meanwhile, `/readyz` 503), and a Redis that stops answering PING for 2 s
 * (probed every second) counts as unreachable (`/readyz` 503) until it answers again.
 */
export function createBackend(config: GatewayConfig, logger: Logger): Backend {
  const historyMaxBytes = config.historyMaxBytes;
  if (config.redisUrl === null) return new InMemoryBackend(config.nodeId, new InMemoryStore({ historyMaxBytes }));
  return new RedisBackend({ url: config.redisUrl, nodeId: config.nodeId, nodeTtlMs: config.nodeTtlMs, historyMaxBytes, logger, waitForStore: true });
}
