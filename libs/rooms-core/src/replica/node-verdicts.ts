import type { NodeId } from '../types.js';

/** Most verdicts kept: node ids are unique per process start, so old ones only matter for a while. */
export const MAX_NODE_VERDICTS = 1024;

/**
 * NodeVerdicts: the nodes the cluster's liveness reported dead to this node (`BackendHandler.onNodeDown`), the most
 * recent `MAX_NODE_VERDICTS` of them. A replica resync asks it whether a member's node is known to be dead: a node
 * this node never saw beat (it started just before a store loss) is not live in `ClusterBus.liveNodes` yet, but it is
 * not dead either, and its members must not be taken for gone before it had its time to re-assert them.
 */
export class NodeVerdicts {
  private readonly down = new Set<NodeId>();

  /** The liveness reported `node` dead. */
  reportDown(node: NodeId): void {
    this.down.delete(node);
    this.down.add(node);
    if (this.down.size > MAX_NODE_VERDICTS) {
      const oldest = this.down.values().next().value;
      if (oldest !== undefined) this.down.delete(oldest);
    }
  }

  /** Whether `node` was reported dead (and has not been seen live since: pass the live nodes). */
  isDown(node: NodeId, live: ReadonlySet<NodeId>): boolean {
    return this.down.has(node) && !live.has(node);
  }
}
