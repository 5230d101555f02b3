import type { GroupId, Logger, NodeId, Now } from '@rooms-kit/core';
import { CleanupLock } from './cleanup-lock.js';
import type { GroupStore } from './group-store.js';
import type { RedisKeys } from './keys.js';
import { OrphanAdoptions } from './orphan-adoptions.js';
import { asStrings } from './replies.js';
import type { RedisCaller, ScriptRunner } from './script-runner.js';

/** How many groups (or sessions) the cleanup handles at once. */
const BATCH = 64;

/** What `cleanUpDeadNode` works with. */
export interface NodeCleanupDeps {
  self: NodeId;
  redis: RedisCaller;
  runner: ScriptRunner;
  groups: GroupStore;
  keys: RedisKeys;
  now: Now;
  /** How long the cleanup lock lives without a renewal (renewed before every batch); about the node TTL. */
  lockMs: number;
  logger: Logger;
  /**
   * Groups this node now supervises as orphans, reported batch by batch: those of the node's index this cleanup found
   * without any member (it emptied them, or a cleaner that died before did), and those the dead node had adopted as
   * orphans itself and had not ended yet (see `OrphanAdoptions`).
   */
  onOrphans(groups: GroupId[]): void;
}

/**
 * How a cleanup ended: `done`; `busy` (another survivor holds the lock); `alive` (the node beat again: it had stalled,
 * not died, and re-asserts its members itself, so its indexes are left alone); `lost-lock` (this cleaner stalled past
 * its lock and another one took over).
 */
export type CleanupOutcome = 'done' | 'busy' | 'alive' | 'lost-lock';

/**
 * Cleans up after a dead node, on one survivor only (see `CleanupLock`): removes its members from every group of its
 * index with `left` reason `node-down` (events published as usual, so every watching node applies them) and reports
 * the groups that left empty (`onOrphans`, recorded as adopted by this node), takes over the orphans the dead node had
 * adopted (a cleaner that died during an orphan's grace must not leave it for good), gives its live sessions their death time (resumable elsewhere for their
 * window, then expired), and finally forgets the node (index, session set, known-nodes entry), listing it among the
 * recently dead so that every survivor still hears of it. Before every batch and before forgetting the node it renews
 * the lock and re-checks that the node is still dead, and stops otherwise. The lock is released (compare-and-delete)
 * however it ends.
 */
export async function cleanUpDeadNode(deps: NodeCleanupDeps, node: NodeId): Promise<CleanupOutcome> {
  const lock = new CleanupLock(deps.redis, deps.runner, deps.keys, node, deps.self, deps.lockMs);
  if (!(await lock.acquire())) return 'busy';
  try {
    const outcome = await cleanUpLocked(deps, node, lock);
    if (outcome === 'alive') deps.logger.info({ node }, 'a node found dead beat again (it had stalled): cleanup stopped, it re-asserts its members');
    if (outcome === 'lost-lock') deps.logger.warn({ node }, 'cleanup lock lost (this cleaner stalled past it): another survivor finishes the cleanup');
    return outcome;
  } finally {
    await lock.release().catch((error: unknown) => deps.logger.debug({ err: error, node }, 'releasing the cleanup lock failed (it expires)'));
  }
}

async function cleanUpLocked(deps: NodeCleanupDeps, node: NodeId, lock: CleanupLock): Promise<CleanupOutcome> {
  const { redis, keys } = deps;
  /** Null while the cleanup may go on; else why it must stop. */
  const mayGoOn = async (): Promise<CleanupOutcome | null> => {
    const [owned, back] = await Promise.all([lock.renew(), redis.call('EXISTS', keys.node(node))]);
    if (!owned) return 'lost-lock';
    return back === 1 ? 'alive' : null;
  };
  const adoptions = new OrphanAdoptions(redis, keys);
  const groups = asStrings(await redis.call('SMEMBERS', keys.nodeGroups(node)));
  let removed = 0;
  for (let i = 0; i < groups.length; i += BATCH) {
    const stop = await mayGoOn();
    if (stop) return stop;
    const batch = groups.slice(i, i + BATCH);
    const results = await Promise.all(batch.map((group) => deps.groups.removeNode(group, node)));
    const orphans = batch.filter((_, j) => results[j]?.emptied === true);
    for (const result of results) removed += result.removed;
    // Recorded before adopting: should this node die during their grace, its own cleaner takes them over.
    await adoptions.record(orphans, deps.self);
    if (orphans.length > 0) deps.onOrphans(orphans);
  }
  const stopBeforeAdoptions = await mayGoOn();
  if (stopBeforeAdoptions) return stopBeforeAdoptions;
  const inherited = await adoptions.takeOver(node, deps.self);
  if (inherited.length > 0) {
    deps.logger.info({ node, groups: inherited.length }, 'took over the orphaned groups a dead node had adopted');
    deps.onOrphans(inherited);
  }
  const sessions = asStrings(await redis.call('SMEMBERS', keys.nodeSessions(node)));
  const diedAt = String(deps.now());
  for (let i = 0; i < sessions.length; i += BATCH) {
    const stop = await mayGoOn();
    if (stop) return stop;
    await Promise.all(sessions.slice(i, i + BATCH).map((session) => deps.runner.run('markSessionDead', [keys.session(session)], [node, diedAt])));
  }
  const stop = await mayGoOn();
  if (stop) return stop;
  await redis.call('DEL', keys.nodeGroups(node));
  await redis.call('DEL', keys.nodeSessions(node));
  await redis.call('ZADD', keys.deadNodes, deps.now(), node);
  await redis.call('SREM', keys.nodes, node);
  deps.logger.info({ node, groups: groups.length, removed, sessions: sessions.length }, 'cleaned up after a dead node');
  return 'done';
}
