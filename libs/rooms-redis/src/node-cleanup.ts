import type { Logger, NodeId, Now } from '@rooms/core';
import type { GroupStore } from './group-store.js';
import type { RedisKeys } from './keys.js';
import { asStrings } from './replies.js';
import type { RedisCaller, ScriptRunner } from './script-runner.js';

/** How many groups (or sessions) the cleanup handles at once. */
const CONCURRENCY = 64;

/** What `cleanUpDeadNode` works with. */
export interface NodeCleanupDeps {
  self: NodeId;
  redis: RedisCaller;
  runner: ScriptRunner;
  groups: GroupStore;
  keys: RedisKeys;
  now: Now;
  /** How long the cleanup lock is held at most (another survivor takes over after it, if this one died). */
  lockMs: number;
  logger: Logger;
}

/**
 * Cleans up after a dead node, on one survivor only (lock `rooms:cleanup:<node>`, SET NX PX): removes its members
 * from every group of its index with `left` reason `node-down` (events published as usual, so every watching node
 * applies them), gives its live sessions their death time (resumable elsewhere for their window, then expired), and
 * finally forgets the node (index, session set, known-nodes entry), listing it among the recently dead so that every
 * survivor still hears of it. Resolves false when another survivor holds the lock.
 */
export async function cleanUpDeadNode(deps: NodeCleanupDeps, node: NodeId): Promise<boolean> {
  const { redis, keys } = deps;
  const locked = await redis.call('SET', keys.cleanupLock(node), deps.self, 'NX', 'PX', deps.lockMs);
  if (locked !== 'OK') return false;
  const groups = asStrings(await redis.call('SMEMBERS', keys.nodeGroups(node)));
  let removed = 0;
  await inBatches(groups, async (group) => {
    removed += await deps.groups.removeNode(group, node);
  });
  const sessions = asStrings(await redis.call('SMEMBERS', keys.nodeSessions(node)));
  const diedAt = String(deps.now());
  await inBatches(sessions, (session) => deps.runner.run('markSessionDead', [keys.session(session)], [node, diedAt]));
  await redis.call('DEL', keys.nodeGroups(node));
  await redis.call('DEL', keys.nodeSessions(node));
  await redis.call('ZADD', keys.deadNodes, deps.now(), node);
  await redis.call('SREM', keys.nodes, node);
  await redis.call('DEL', keys.cleanupLock(node));
  deps.logger.info({ node, groups: groups.length, removed, sessions: sessions.length }, 'cleaned up after a dead node');
  return true;
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) await Promise.all(items.slice(i, i + CONCURRENCY).map(work));
}
