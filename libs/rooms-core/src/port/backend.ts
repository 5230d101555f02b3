import type { GroupId, NodeId } from '../types.js';
import type { ClusterBus } from './cluster-bus.js';
import type { GroupLog, ReplicaEvent } from './group-log.js';
import type { SessionStore } from './session-store.js';

/**
 * What a backend calls on the node that started it. The notifications (`onEvent` … `onAvailability`) must not throw
 * (they log and drop); `onNodeMessage` answers a message of the cluster bus.
 */
export interface BackendHandler {
  /** An event of a group this node watches, in the group's order, at most once per `v`. */
  onEvent(event: ReplicaEvent): void;
  /** Another node was found dead; the store has already removed (or will remove) its members with `node-down`. */
  onNodeDown(node: NodeId): void;
  /**
   * Groups this node's cleanup of a dead node left empty (called on the one node that cleaned up). Nobody may be
   * watching them any more, so this node takes over their lifecycle: it watches them and discards them after their
   * grace unless someone joins.
   */
  onOrphans(groups: GroupId[]): void;
  /**
   * The store's connection came back after a loss (possibly empty, e.g. a restarted Redis without persistence).
   * The node re-asserts its groups and members (see `GroupLog.reassert`).
   */
  onReconnected(): void;
  /** Reachability of the store changed; while unreachable, writes fail fast with `UNAVAILABLE`. */
  onAvailability(available: boolean): void;
  /**
   * A message another node (or this one) sent with `ClusterBus.send`. What it returns (or its promise resolves with)
   * is the reply; a thrown `RoomsError` reaches the sender with its code and message.
   */
  onNodeMessage(from: NodeId, body: unknown): unknown | Promise<unknown>;
}

/**
 * A backend: the parts through which the nodes of a cluster share state, given to the kernel as one
 * (`NodeManagerOptions.backend`): the group log, the session store and the cluster bus. Implemented in memory
 * (`InMemoryBackend`, one process), on Redis and on Redis Cluster; each is checked by `backendContract`.
 */
export interface Backend {
  /** This node's id (unique per process start). */
  readonly nodeId: NodeId;
  /** Groups, members and messages. */
  readonly groups: GroupLog;
  /** Resumable session records. */
  readonly sessions: SessionStore;
  /** Messages between nodes. */
  readonly bus: ClusterBus;
  /** Starts the backend (connections, liveness) and routes what it receives to `handler`. Resolves once usable. */
  start(handler: BackendHandler): Promise<void>;
  /** Stops everything `start` started: subscriptions, timers, connections, liveness, pending sends. Idempotent. */
  close(): Promise<void>;
}
