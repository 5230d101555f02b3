import type { GroupId, NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import { asStrings } from './replies.js';
import type { RedisCaller } from './script-runner.js';

/**
 * OrphanAdoptions: which node took over the lifecycle of each group a dead node left empty (`rooms:orphans`, a hash
 * group -> adopting node). The adopter discards such a group after its grace unless someone joins; when the adopter
 * dies before that, the survivor that cleans up after it takes its adoptions over (`takeOver`), so an orphan never
 * outlives every node that could end it. Entries of groups that are gone or have members again are dropped then.
 */
export class OrphanAdoptions {
  private readonly key: string;

  constructor(
    private readonly redis: RedisCaller,
    private readonly keys: RedisKeys,
  ) {
    this.key = keys.orphans();
  }

  /** Records that `adopter` took over `groups`. */
  async record(groups: readonly GroupId[], adopter: NodeId): Promise<void> {
    if (groups.length === 0) return;
    await this.redis.call('HSET', this.key, ...groups.flatMap((group) => [group, adopter]));
  }

  /**
   * Moves the adoptions of `dead` (a node being cleaned up after) to `adopter` and resolves with those groups, still
   * existing and still without members; entries of every other group that is gone or has members again are dropped on
   * the way (the hash stays as small as the orphans alive).
   */
  async takeOver(dead: NodeId, adopter: NodeId): Promise<GroupId[]> {
    const flat = asStrings(await this.redis.call('HGETALL', this.key));
    const taken: GroupId[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const group = flat[i] as GroupId;
      const holder = flat[i + 1] as NodeId;
      const keys = this.keys.group(group);
      const [exists, size] = await Promise.all([this.redis.call('EXISTS', keys.state), this.redis.call('HLEN', keys.members)]);
      if (exists !== 1 || size !== 0) {
        await this.redis.call('HDEL', this.key, group);
      } else if (holder === dead) {
        await this.redis.call('HSET', this.key, group, adopter);
        taken.push(group);
      }
    }
    return taken;
  }
}
