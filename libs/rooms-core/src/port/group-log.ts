import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';

/**
 * An event of one group's ordered stream. Every change the store applies to a group is published as exactly one
 * event, stamped with the group's version `v` (strictly increasing by one per event within a group).
 */
export type ReplicaEvent =
  | { type: 'joined'; group: GroupId; v: number; member: MemberInfo; size: number }
  | { type: 'left'; group: GroupId; v: number; member: MemberInfo; reason: LeaveReason; data?: unknown; size: number }
  /**
   * A member put back on `member.node`: a resumed session (`GroupLog.rejoin`), or a member re-asserted by its own node
   * after the store lost it (`GroupLog.reassert`). `previousNode` is the node the store held it on, null when it held
   * it on none (removed with `node-down` while its node stalled, or lost with the store's data).
   */
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

/**
 * A message the store acknowledged to a sender on this node whose event this node never saw: the store may have lost
 * it (see `ReassertedGroup.messages`).
 */
export interface RestoredMessage {
  offset: number;
  from: SessionId | null;
  /** The message's `data` as JSON. */
  json: string;
  /** Deliver to the sender too. */
  self: boolean;
}

/** A group as a node re-asserts it after the store came back (see `GroupLog.reassert`). */
export interface ReassertedGroup extends GroupSnapshot {
  /**
   * Messages acknowledged to this node's senders that its replica never got back, in offset order, each at or below
   * `offset`. Acknowledged means delivered to every member, also when the store lost everything before publishing.
   */
  messages?: RestoredMessage[];
}

/** Result of `GroupLog.join`. */
export interface JoinOutcome {
  /** The session was already a member; nothing changed, no event. */
  already: boolean;
  /** Version of the `joined` event (or the current version when `already`). */
  v: number;
  /** The group's latest message offset at the time of the join. */
  offset: number;
}

/**
 * The group log: where groups, their members and their messages are shared between the nodes of a cluster. The
 * kernel drives every group change through it and applies the events it gets back (`BackendHandler.onEvent`), so one
 * node in memory and many nodes on a shared store run the same code.
 *
 * Guarantees every implementation keeps (checked by `backendContract` against each):
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
export interface GroupLog {
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
  /**
   * Appends a message with the group's next offset and publishes it; `size` is the member count then. Rejects
   * `GROUP_NOT_FOUND`. `json`, when given, is `data` written as JSON (`JSON.stringify(data) ?? 'null'`) by a caller
   * that had it already (the kernel, which measured the payload): an implementation may store or send it instead of
   * writing `data` again.
   */
  publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<{ offset: number; size: number }>;
  /** Discards a group (with `ifEmpty`, only when it has no member). Resolves true when this call discarded it. */
  discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean>;
  /**
   * The group's messages after offset `since`, in order. `complete` is false when the bounded history no longer
   * holds every one of them (the caller must not pretend the replay is whole).
   *
   * The history is bounded twice, and keeps the latest messages within both bounds: by count (an implementation
   * may keep somewhat more than its count, e.g. Redis trims its stream approximately) and by bytes, exactly: the
   * retained messages' `data`, each written as JSON and measured in UTF-8 bytes, sum to at most the byte budget
   * (`historyMaxBytes` of each backend, default `DEFAULT_LIMITS.historyMaxBytes`, 1 MiB). A message larger than the
   * whole budget is not kept.
   */
  history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }>;
  /**
   * After the store came back: writes this node's own groups and members again when they are missing
   * (never overriding what other nodes wrote) and resubscribes. A group it re-creates keeps its offsets (they never
   * go back) and its history starts after them (`history` of earlier offsets is incomplete). A member is added back
   * only while the group (as stored: its own `maxMembers` if it was created again meanwhile) has room, in the order
   * given; the others stay out (no event), and the node's resync of that replica then finds them gone. A member added
   * back emits `rejoined` with `previousNode` null (the store held it on no node): the member came back, it did not
   * join; a replica that still shows it on that node never saw it leave, and tells nobody (see `ReplicaApplier`).
   * Each of a group's `messages` the history does not hold yet and can still take in offset order (nothing at or
   * after its offset is stored; e.g. the store lost them) is written back into the history and published again as a
   * `message` event with its own offset and a new `v`, in offset order: replicas that applied that offset already
   * drop it as old; the others deliver it (or find it in the history when they recover a gap). The others are left out.
   */
  reassert(groups: ReassertedGroup[]): Promise<void>;
}
