import { RoomsError } from '@rooms-kit/contract';
import type { BackendHandler } from '../port/backend.js';
import type { GroupId, NodeId } from '../types.js';

/** One node attached to an `InMemoryStore`, as the store sees it. */
export interface AttachedNode {
  handler: BackendHandler;
  /** Groups whose events it gets. */
  watching: Set<GroupId>;
  alive: boolean;
  /** When it closed or was killed (epoch ms); null while alive. */
  diedAt: number | null;
  /**
   * Groups left empty by dead nodes that were handed to this node (`onOrphans`) to end after their grace. Should this
   * node die too, the next survivor takes over those still there and still empty (see `InMemoryStore.killNode`).
   */
  adopted: Set<GroupId>;
}

/**
 * AttachedNodes: the nodes of an `InMemoryStore` (alive or dead; an id is never reused) and whether the store can be
 * reached, which every operation checks first (`check`).
 */
export class AttachedNodes {
  /** False while the store plays unreachable (`InMemoryStore.setAvailable`). */
  available = true;
  private readonly nodes = new Map<NodeId, AttachedNode>();

  /** Attaches a node. Rejects a node id seen before (ids are unique per process start). */
  attach(node: NodeId, handler: BackendHandler): void {
    if (this.nodes.has(node)) throw new RoomsError('INTERNAL', `node id ${node} was already used`);
    this.nodes.set(node, { handler, watching: new Set(), alive: true, diedAt: null, adopted: new Set() });
  }

  /** The node, alive or dead; undefined when never attached. */
  get(node: NodeId): AttachedNode | undefined {
    return this.nodes.get(node);
  }

  /** Throws `UNAVAILABLE` while the store is unreachable or when `node` is not attached and alive. */
  check(node: NodeId): void {
    if (!this.available) throw new RoomsError('UNAVAILABLE');
    if (!this.nodes.get(node)?.alive) throw new RoomsError('UNAVAILABLE', 'this node is detached from the store');
  }

  /** Marks a live node dead at `now`: it watches nothing any more. False when it was not alive. */
  markDead(node: NodeId, now: number): boolean {
    const entry = this.nodes.get(node);
    if (!entry?.alive) return false;
    entry.alive = false;
    entry.watching.clear();
    entry.diedAt = now;
    return true;
  }

  /** Ids of the nodes alive, in attach order. */
  liveNodes(): NodeId[] {
    return [...this.nodes].filter(([, n]) => n.alive).map(([id]) => id);
  }

  /** The nodes alive, in attach order. */
  *live(): Iterable<AttachedNode> {
    for (const entry of this.nodes.values()) if (entry.alive) yield entry;
  }

  /** Every node ever attached. */
  all(): Iterable<AttachedNode> {
    return this.nodes.values();
  }
}
