import type { ReplicaEvent } from '../port/group-log.js';
import type { AttachedNode } from './attached-nodes.js';

/** An event on its way to one node. */
interface Delivery {
  node: AttachedNode;
  event: ReplicaEvent;
}

/**
 * MemoryDispatch: how an `InMemoryStore` hands its group events to the nodes, keeping the port's promise that each node
 * gets a group's events once each and in `v` order. One queue per store, drained in a loop, never by recursion: a change
 * made from inside `onEvent` (the kernel taking out a member whose session ended, an embedder's delivery port answering
 * a message at once) is handed out after every node got the event it was made in, not before the nodes after the one
 * that made it. Still synchronous: every event is handed out before the outermost store call returns.
 */
export class MemoryDispatch {
  private readonly queue: Delivery[] = [];
  private draining = false;

  /** Hands `event` to each node in `to` (those watching its group now), after the events already on their way. */
  emit(event: ReplicaEvent, to: Iterable<AttachedNode>): void {
    for (const node of to) this.queue.push({ node, event });
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        // A node that died meanwhile gets nothing more.
        if (next.node.alive) next.node.handler.onEvent(next.event);
      }
    } finally {
      this.draining = false;
    }
  }
}
