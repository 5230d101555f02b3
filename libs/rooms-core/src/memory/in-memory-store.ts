import { DEFAULT_LIMITS } from '@rooms-kit/contract';
import type { Clock, Now } from '../clock.js';
import { systemClock } from '../clock.js';
import type { BackendHandler } from '../port/backend.js';
import type { GroupId, NodeId } from '../types.js';
import { AttachedNodes } from './attached-nodes.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryGroups } from './memory-groups.js';
import { MemorySessions } from './memory-sessions.js';

/** Options of an `InMemoryStore`. */
export interface InMemoryStoreOptions {
  /** Messages kept per group for recovery. Default 1000. */
  historySize?: number;
  /**
   * Bytes of messages kept per group: the UTF-8 size of each message's `data` as JSON, summed. The oldest messages
   * are dropped past it (a message larger than it is not kept). Default 1 MiB (`DEFAULT_LIMITS.historyMaxBytes`).
   */
  historyMaxBytes?: number;
  /** Wall clock for session expiry. Default `Date.now`. */
  now?: Now;
  /** Timers of the cluster bus's bounded wait. Default the global timers. */
  clock?: Clock;
}

/**
 * InMemoryStore: the shared state behind `InMemoryBackend`s, playing the part Redis plays in a cluster: the groups,
 * the session records and the bus between the attached nodes. Several backends (nodes) can attach to one store in one
 * process; every operation is applied atomically (JavaScript runs it to completion) and its event is dispatched
 * in `v` order to the nodes watching the group (see `MemoryDispatch`).
 * Test controls simulate faults: `setAvailable(false)` (store unreachable), `wipe()` (restart without persistence),
 * `killNode(id)` (a node's crash, detected at once).
 */
export class InMemoryStore {
  /** The attached nodes and the store's reachability. */
  readonly nodes = new AttachedNodes();
  /** The groups (used by `InMemoryBackend`). */
  readonly groups: MemoryGroups;
  /** The session records (used by `InMemoryBackend`). */
  readonly sessions: MemorySessions;
  /** The bus between the attached nodes (used by `InMemoryBackend`). */
  readonly bus: MemoryBus;
  private readonly now: Now;

  constructor(options: InMemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.groups = new MemoryGroups(this.nodes, {
      maxCount: Math.max(1, Math.floor(options.historySize ?? 1000)),
      maxBytes: Math.max(0, options.historyMaxBytes ?? DEFAULT_LIMITS.historyMaxBytes),
    });
    this.sessions = new MemorySessions(this.nodes, this.now);
    this.bus = new MemoryBus(this.nodes, options.clock ?? systemClock);
  }

  /** Attaches a node. Rejects a node id seen before (ids are unique per process start). */
  attach(node: NodeId, handler: BackendHandler): void {
    this.nodes.attach(node, handler);
  }

  /**
   * Detaches a node that closed: for the others it is gone like a crashed node (members it still has leave with
   * `node-down`; its sessions stay resumable elsewhere for their window).
   */
  detach(node: NodeId): void {
    this.killNode(node);
  }

  /** Ids of the attached nodes still alive. */
  liveNodes(): NodeId[] {
    return this.nodes.liveNodes();
  }

  // ---- test controls ------------------------------------------------------------------------------------------

  /** Makes the store unreachable (every call rejects `UNAVAILABLE`) or reachable again (nodes get `onReconnected`). */
  setAvailable(available: boolean): void {
    if (this.nodes.available === available) return;
    this.nodes.available = available;
    for (const node of this.nodes.live()) node.handler.onAvailability(available);
    if (available) for (const node of this.nodes.live()) node.handler.onReconnected();
  }

  /** Loses every group and session, like a Redis restarted without persistence. Watches are lost too. */
  wipe(): void {
    this.groups.clear();
    this.sessions.clear();
    for (const node of this.nodes.all()) node.watching.clear();
  }

  /**
   * Simulates the crash of a node, detected at once: its pending bus messages fail, its members leave every group
   * with `node-down`, the other nodes get `onNodeDown`, and its sessions become resumable elsewhere for their window.
   */
  killNode(node: NodeId): void {
    const dead = this.nodes.get(node);
    if (!dead || !this.nodes.markDead(node, this.now())) return;
    this.bus.forget(node);
    const orphans = this.groups.removeNode(node);
    const survivors = [...this.nodes.live()];
    for (const other of survivors) other.handler.onNodeDown(node);
    // One survivor (the one that "cleaned up") takes over the lifecycle of the groups the dead node left empty, and of
    // those it had adopted itself and not ended yet: else a group whose adopter died during its grace stays for good.
    const adopterId = this.nodes.liveNodes()[0];
    const adopter = survivors[0];
    if (adopterId === undefined || !adopter) return;
    const inherited = [...dead.adopted].filter((group) => !orphans.includes(group) && this.stillOrphaned(adopterId, group));
    dead.adopted.clear();
    const handed = [...orphans, ...inherited];
    if (handed.length === 0) return;
    for (const group of handed) adopter.adopted.add(group);
    adopter.handler.onOrphans(handed);
  }

  /**
   * Whether an adopted group still exists without any member (one that got members again is nobody's orphan). While
   * the store plays unreachable it cannot be told: handed on anyway (adopting a group that has members ends nothing).
   */
  private stillOrphaned(reader: NodeId, group: GroupId): boolean {
    try {
      return this.groups.snapshot(reader, group)?.members.length === 0;
    } catch {
      return true;
    }
  }
}
