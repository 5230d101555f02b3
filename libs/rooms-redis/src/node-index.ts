import type { GroupId, Logger, NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import { asInt } from './replies.js';
import type { RedisCaller } from './script-runner.js';

/**
 * NodeIndex: per node, the set of groups where it may hold members (`rooms:nodemembers:<node>`), so that the
 * cleanup after its death visits only those groups. On single Redis the scripts that add a member (and `leave` of this
 * node's own members) keep it in the same atomic step; this class serves Redis Cluster, where the set lives in
 * another slot than the groups, and the rarer changes (re-assert, a rejoin's previous node, discard). There it is kept
 * beside the scripts, as a superset:
 * - a change that adds a member of `node` adds the group before the script (`before`) and again after it (`after`);
 * - a change after which `node` has no member left there removes the group and then re-checks the group's count
 *   (`prune`), adding it back when a member arrived in between.
 * With this order a group holding members of `node` is in the set whenever no change is half-way; the cleanup skips
 * groups where the node holds nothing.
 */
export class NodeIndex {
  constructor(
    private readonly redis: RedisCaller,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  /** Adds `group` to `node`'s set (resolves when Redis acknowledged). */
  add(node: NodeId, group: GroupId): Promise<unknown> {
    return this.redis.call('SADD', this.keys.nodeGroups(node), group);
  }

  /** Adds `group` again after a change, in the background (a failure is logged: the re-assert after a reconnect repairs it). */
  after(node: NodeId, group: GroupId): void {
    this.add(node, group).catch((error: unknown) => this.logger.debug({ err: error, node, group }, 'node index add failed'));
  }

  /** Removes `group` from `node`'s set unless `node` holds members there again; in the background. */
  prune(node: NodeId, group: GroupId): void {
    void (async () => {
      await this.redis.call('SREM', this.keys.nodeGroups(node), group);
      const count = await this.redis.call('HGET', this.keys.group(group).nodes, node);
      if (count !== null && asInt(count) > 0) await this.add(node, group);
    })().catch((error: unknown) => this.logger.debug({ err: error, node, group }, 'node index prune failed'));
  }
}
