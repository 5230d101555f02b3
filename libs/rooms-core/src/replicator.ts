import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, NodeId, SessionId } from './types.js';

/**
 * An event of one group's ordered stream. Every change the store applies to a group is published as exactly one
 * event, stamped with the group's version `v` (strictly increasing by one per event within a group).
 */
export type ReplicaEvent =
  | { type: 'joined'; group: GroupId; v: number; member: MemberInfo; size: number }
  | { type: 'left'; group: GroupId; v: number; member: MemberInfo; reason: LeaveReason; data?: unknown; size: number }
  | { type: 'rejoined'; group: GroupId; v: number; member: MemberInfo; previousNode: NodeId | null; size: number }
  | {
      type: 'message';
      group: GroupId;
      v: number;
      from: SessionId | null;
      data: unknown;
      offset: number;
      /** Deliver to the sender too. */
      self: boolean;
    }
  | { type: 'discarded'; group: GroupId; v: number; reason: DiscardReason };

/** A group's state as stored: the spec, every member, the latest offset and the version of the last event. */
export interface GroupSnapshot {
  spec: GroupSpec;
  members: MemberInfo[];
  offset: number;
  v: number;
  /** Whether the group has had a member (an empty group that had members is in `empty-grace`, else `created`). */
  everActive: boolean;
}

/** A resumable session as stored, so that it can be resumed on any node. */
export interface SessionRecord {
  id: SessionId;
  user?: string;
  /** The node that held the connection. */
  node: NodeId;
  /** A hash of the session's current resume token (never the token itself). */
  tokenHash: string;
  /**
   * Groups the session is in, each with the last offset known written to its connection (exact after a suspend;
   * the offset at join time while connected, so a resume after a node crash replays more, never less).
   */
  groups: Record<GroupId, number>;
  /** Epoch ms after which the session can no longer be resumed; null while its connection is up. */
  expiresAt: number | null;
  /** The resume window in ms, applied from the moment the holding node is found dead. */
  windowMs: number;
}

/** What the replicator calls on the node that started it. Handlers must not throw (they log and drop). */
export interface ReplicaHandler {
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
   * The node re-asserts its groups and members (see `Replicator.reassert`).
   */
  onReconnected(): void;
  /** Reachability of the store changed; while unreachable, writes fail fast with `UNAVAILABLE`. */
  onAvailability(available: boolean): void;
  /** A session this node holds (connected or suspended) was resumed on another node: drop it here without `left`. */
  onSessionTaken(session: SessionId): void;
  /** A session this node holds was kicked through another node: end it here (`left` reason `kicked`). */
  onSessionKicked(session: SessionId): void;
}

/** Result of `Replicator.join`. */
export interface JoinOutcome {
  /** The session was already a member; nothing changed, no event. */
  already: boolean;
  /** Version of the `joined` event (or the current version when `already`). */
  v: number;
  /** The group's latest message offset at the time of the join. */
  offset: number;
}

/**
 * The replication port: where groups, members, messages and sessions are shared between the nodes of a cluster.
 * The kernel drives every state change through it and applies the events it gets back, so one node with the
 * in-memory implementation and many nodes on Redis run the same code.
 *
 * Guarantees every implementation keeps (tested by one contract suite against each):
 * - Atomicity: `createGroup`, `join`, `leave`, `rejoin`, `publish` and `discard` are each applied entirely or not at
 *   all. `maxMembers` holds under concurrent joins from any node; two creates of one id give one `GROUP_EXISTS`.
 * - Order: each applied change emits one `ReplicaEvent` with the group's next `v`; every node watching the group gets
 *   the group's events once each, in `v` order. A `message` gets the group's next `offset` (1, 2, 3, ... never reused
 *   while the group exists).
 * - Watch: `watch` returns a snapshot; events with `v` at or below the snapshot's are already reflected in it and are
 *   not delivered after it. A node gets no event of a group it does not watch.
 * - Failure: while the store is unreachable every method rejects promptly with `RoomsError('UNAVAILABLE')` and no
 *   change is applied; methods never hang longer than the implementation's command timeout.
 * - Discard: `discard(.., {ifEmpty:true})` discards only a group that has no member at that instant; of many
 *   concurrent discards of one group exactly one returns true and emits `discarded`.
 */
export interface Replicator {
  /** This node's id (unique per process start). */
  readonly nodeId: NodeId;
  /** Starts the replicator (connections, liveness) and routes events to `handler`. Resolves once usable. */
  start(handler: ReplicaHandler): Promise<void>;
  /** Stops everything `start` started: subscriptions, timers, connections, liveness. Idempotent. */
  close(): Promise<void>;

  /** Creates a group; with `first`, the member joins in the same atomic step. Rejects `GROUP_EXISTS`. Watches it. */
  createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot>;
  /** Starts receiving a group's events; resolves with its snapshot, or null when the group does not exist. */
  watch(group: GroupId): Promise<GroupSnapshot | null>;
  /** Stops receiving a group's events. */
  unwatch(group: GroupId): Promise<void>;
  /** Reads a group's snapshot without watching it; null when it does not exist. */
  snapshot(group: GroupId): Promise<GroupSnapshot | null>;
  /** Ids of every group in the store. */
  listGroups(): Promise<GroupId[]>;

  /** Adds a member. Rejects `GROUP_NOT_FOUND` or `GROUP_FULL`; an existing member gives `already: true`. */
  join(group: GroupId, member: MemberInfo): Promise<JoinOutcome>;
  /** Removes a member. Resolves with the event's `v`, or null when it was not a member (no event). */
  leave(group: GroupId, member: SessionId, reason: LeaveReason, data?: unknown): Promise<number | null>;
  /**
   * Puts a resumed member back on `member.node`: moves the stored member (keeping its join `data`) when present, adds
   * `member` when absent and the group has room.
   * Resolves with the event's `v`, or null when the group is missing or full (the session lost that group).
   */
  rejoin(group: GroupId, member: MemberInfo): Promise<number | null>;
  /** Appends a message with the group's next offset and publishes it; `size` is the member count then. Rejects `GROUP_NOT_FOUND`. */
  publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean): Promise<{ offset: number; size: number }>;
  /** Discards a group (with `ifEmpty`, only when it has no member). Resolves true when this call discarded it. */
  discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean>;
  /**
   * The group's messages after offset `since`, in order. `complete` is false when the bounded history no longer
   * holds every one of them (the caller must not pretend the replay is whole).
   */
  history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }>;

  /**
   * Stores a resumable session until `record.expiresAt`, replacing a record of the same id unless another node than
   * `record.node` holds it now (a late save from the old holder must not undo a resume elsewhere).
   */
  saveSession(record: SessionRecord): Promise<void>;
  /**
   * Takes a session for resume on this node: atomically checks the token hash (and, with `expectedUser`, that the
   * session belongs to that user; null: that it has no user) and that it is resumable: suspended and not expired, connected on a live node (a
   * client that reconnects before its old connection is seen dead), or held by a node found dead less than
   * `windowMs` ago. Moves the record to this node, replaces the token hash with `newTokenHash` in the same step (so
   * of concurrent takes with one token exactly one wins) and tells the node that held it (`onSessionTaken`). Null
   * when unknown, expired, the hash or the user differs; nothing changes then.
   */
  takeSession(session: SessionId, tokenHash: string, options?: { newTokenHash?: string; expectedUser?: string | null }): Promise<SessionRecord | null>;
  /**
   * Kicks a session wherever it is held: the holding node gets `onSessionKicked` (not called when this node holds
   * it: the caller ends it itself); a session of a dead node just loses its record. Resolves false when no record
   * exists.
   */
  kickSession(session: SessionId): Promise<boolean>;
  /**
   * Forgets a session (ended by the client, kicked, or its window passed). With `ifNode`, not when the record is now
   * held by another node (a window that ends on the old node must not undo a resume elsewhere: a resume moves the
   * record, it never deletes it). Resolves false only in that case; a missing record (e.g. expired) resolves true.
   */
  dropSession(session: SessionId, ifNode?: NodeId): Promise<boolean>;

  /** Ids of the nodes currently alive, this one included. */
  liveNodes(): NodeId[];
  /**
   * After the store came back: writes this node's own groups and members again when they are missing
   * (never overriding what other nodes wrote) and resubscribes. A group it re-creates keeps its offsets (they never
   * go back) and its history starts after them (`history` of earlier offsets is incomplete).
   */
  reassert(groups: GroupSnapshot[]): Promise<void>;
}
