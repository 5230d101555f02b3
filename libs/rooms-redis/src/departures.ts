import type { NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import type { RedisCaller } from './script-runner.js';

/**
 * Departures: the notice a node leaves in Redis when it stops cleanly (`rooms:left:<node>`, PX the dead-node
 * retention), so that the survivors tell a departure from a crash: both lose the node's liveness key, but only a node
 * that announced itself left on purpose. The notice is written before the liveness key is deleted, so no survivor can
 * see the key gone without the notice (unless writing it failed: then the node counts as dead, which is safe).
 */
export class Departures {
  constructor(
    private readonly redis: RedisCaller,
    private readonly keys: RedisKeys,
    /** How long a notice is kept: as long as a cleaned-up node is listed as recently dead. */
    private readonly retentionMs: number,
  ) {}

  private key(node: NodeId): string {
    return this.keys.departure(node);
  }

  /** Announces that `node` (this one) is leaving cleanly; call it before deleting its liveness key. */
  async announce(node: NodeId): Promise<void> {
    await this.redis.call('SET', this.key(node), '1', 'PX', this.retentionMs);
  }

  /** Whether `node` announced its departure (false when it crashed, stalled, or the notice expired). */
  async left(node: NodeId): Promise<boolean> {
    return (await this.redis.call('EXISTS', this.key(node))) === 1;
  }
}
